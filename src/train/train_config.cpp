#include "train/train_config.h"

#include <cstdint>
#include <limits>
#include <set>
#include <type_traits>
#include <utility>

#include "policy/robotrain_json.h"
#include "util/error.h"
#include "util/strings.h"

namespace robotrain::train {

using util::Json;

std::vector<ImageTransformSpec> ImageTransformsConfig::default_transforms() {
  // LeRobot 0.5 defaults, in torchvision's suggested order.
  return {
      {"brightness", "ColorJitter", 1.0, Json{{"brightness", {0.8, 1.2}}}},
      {"contrast", "ColorJitter", 1.0, Json{{"contrast", {0.8, 1.2}}}},
      {"saturation", "ColorJitter", 1.0, Json{{"saturation", {0.5, 1.5}}}},
      {"hue", "ColorJitter", 1.0, Json{{"hue", {-0.05, 0.05}}}},
      {"sharpness", "SharpnessJitter", 1.0, Json{{"sharpness", {0.5, 1.5}}}},
      {"affine", "RandomAffine", 1.0, Json{{"degrees", {-5.0, 5.0}}, {"translate", {0.05, 0.05}}}},
  };
}

std::string TrainConfig::policy_type() const {
  auto it = policy.find("type");
  return it != policy.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string TrainConfig::policy_device() const {
  auto it = policy.find("device");
  return it != policy.end() && it->is_string() ? it->get<std::string>() : "";
}

Json to_json(const ImageTransformsConfig& c) {
  Json tfs = Json::object();
  for (const auto& t : c.tfs) tfs[t.name] = Json{{"weight", t.weight}, {"type", t.type}, {"kwargs", t.kwargs}};
  return Json{{"enable", c.enable}, {"max_num_transforms", c.max_num_transforms}, {"random_order", c.random_order},
              {"tfs", tfs}};
}

Json to_json(const OptimizerConfig& c) {
  // Draccus order: the choice name, the base fields, then the subclass's own.
  return Json{{"type", c.type},         {"lr", c.lr},
              {"weight_decay", c.weight_decay}, {"grad_clip_norm", c.grad_clip_norm},
              {"betas", {c.beta1, c.beta2}},    {"eps", c.eps}};
}

Json to_json(const SchedulerConfig& c) {
  return Json{{"type", c.type}, {"num_warmup_steps", c.num_warmup_steps}, {"name", c.name}};
}

namespace {

Json optional_string(const std::string& s) { return s.empty() ? Json(nullptr) : Json(s); }

[[noreturn]] void wrong_field(const char* key, const char* expected, const Json& got) {
  throw util::InputError(util::cat("train_config.json: field '", key, "' must be ", expected, ", got ",
                                   util::one_line(got.dump(), 100), "; fix or remove it"));
}

// nlohmann's get<int>() reads 2.5 as 2 and 4294967298 as 2: a whole number that fits, or refused.
template <class T>
T whole_number(const Json& v, const char* key) {
  const bool fits = v.is_number_integer() &&
                    (v.is_number_unsigned() ? std::cmp_less_equal(v.get<uint64_t>(), std::numeric_limits<T>::max())
                                            : std::in_range<T>(v.get<int64_t>()));
  if (!fits) wrong_field(key, "a whole number in range", v);
  return v.get<T>();
}

std::vector<int64_t> whole_numbers(const Json& v, const char* key) {
  std::vector<int64_t> out;
  for (const auto& e : v) out.push_back(whole_number<int64_t>(e, key));
  return out;
}

template <class T>
T get_or(const Json& j, const char* key, T fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) return whole_number<T>(*it, key);
  try {
    return it->get<T>();
  } catch (const std::exception& e) {
    throw util::InputError(util::cat("train_config.json: field '", key, "' has the wrong type (", e.what(),
                                     "); fix or remove it"));
  }
}

ImageTransformsConfig transforms_from_json(const Json& j) {
  ImageTransformsConfig c;
  if (!j.is_object()) return c;
  c.enable = get_or(j, "enable", c.enable);
  c.max_num_transforms = get_or(j, "max_num_transforms", c.max_num_transforms);
  c.random_order = get_or(j, "random_order", c.random_order);
  if (auto it = j.find("tfs"); it != j.end() && it->is_object()) {
    c.tfs.clear();
    for (auto& [name, t] : it->items())
      c.tfs.push_back({name, get_or<std::string>(t, "type", "Identity"), get_or(t, "weight", 1.0),
                       t.contains("kwargs") ? t["kwargs"] : Json::object()});
  }
  return c;
}

OptimizerConfig optimizer_from_json(const Json& j) {
  OptimizerConfig c;
  c.type = get_or<std::string>(j, "type", c.type);
  c.lr = get_or(j, "lr", c.lr);
  c.weight_decay = get_or(j, "weight_decay", c.weight_decay);
  c.grad_clip_norm = get_or(j, "grad_clip_norm", c.grad_clip_norm);
  c.eps = get_or(j, "eps", c.eps);
  if (auto it = j.find("betas"); it != j.end() && !it->is_null()) {
    if (!it->is_array() || it->size() != 2 || !(*it)[0].is_number() || !(*it)[1].is_number())
      wrong_field("betas", "a list of two numbers", *it);
    c.beta1 = (*it)[0].get<double>();
    c.beta2 = (*it)[1].get<double>();
  }
  return c;
}

}  // namespace

Json recorded_dataset_repo_id(const DatasetConfig& d) {
  if (!d.repo_id.empty()) return d.repo_id;
  std::filesystem::path root = std::filesystem::path(d.root).lexically_normal();
  if (root.has_filename() == false) root = root.parent_path();  // "data/pusht/" names pusht
  std::string name = root.filename().string();
  if (name.empty() || name == "." || name == "..") return nullptr;
  return name;
}

Json to_json(const TrainConfig& c) {
  Json dataset{{"repo_id", recorded_dataset_repo_id(c.dataset)},
               {"root", optional_string(c.dataset.root)},
               {"episodes", c.dataset.episodes ? Json(*c.dataset.episodes) : Json(nullptr)},
               {"image_transforms", to_json(c.dataset.image_transforms)},
               {"revision", optional_string(c.dataset.revision)},
               {"use_imagenet_stats", c.dataset.use_imagenet_stats},
               {"video_backend", c.dataset.video_backend},
               {"streaming", c.dataset.streaming}};
  Json j;
  j["dataset"] = dataset;
  j["env"] = nullptr;
  j["policy"] = c.policy.empty() ? Json(nullptr) : c.policy;
  j["output_dir"] = optional_string(c.output_dir);
  j["job_name"] = optional_string(c.job_name);
  j["resume"] = c.resume;
  j["seed"] = c.seed;
  j["cudnn_deterministic"] = false;
  j["num_workers"] = c.num_workers;
  j["batch_size"] = c.batch_size;
  j["steps"] = c.steps;
  j["eval_freq"] = c.eval_freq;
  j["log_freq"] = c.log_freq;
  j["tolerance_s"] = c.tolerance_s;
  j["save_checkpoint"] = c.save_checkpoint;
  j["save_freq"] = c.save_freq;
  j["use_policy_training_preset"] = c.use_policy_training_preset;
  j["optimizer"] = c.optimizer ? to_json(*c.optimizer) : Json(nullptr);
  j["scheduler"] = c.scheduler && !c.scheduler->type.empty() ? to_json(*c.scheduler) : Json(nullptr);
  j["eval"] = Json{{"n_episodes", 50}, {"batch_size", 50}, {"use_async_envs", false}};
  j["wandb"] = Json{{"enable", false},      {"disable_artifact", false}, {"project", "lerobot"}, {"entity", nullptr},
                    {"notes", nullptr},     {"run_id", nullptr},         {"mode", nullptr},       {"add_tags", true}};
  j["peft"] = nullptr;
  j["use_rabc"] = false;
  j["rabc_progress_path"] = nullptr;
  j["rabc_kappa"] = 0.01;
  j["rabc_epsilon"] = 1e-6;
  j["rabc_head_mode"] = "sparse";
  j["rename_map"] = Json::object();
  return j;
}

Json robotrain_train_json(const TrainConfig& c) {
  Json j{{"val_split", c.val_split}, {"val_episodes", c.val_episodes}};
  if (!c.dataset_source.empty()) j["dataset_source"] = c.dataset_source;
  return j;
}

void apply_robotrain_train_json(TrainConfig& c, const Json& section) {
  c.val_split = get_or(section, "val_split", c.val_split);
  c.dataset_source = get_or<std::string>(section, "dataset_source", c.dataset_source);
  if (auto v = section.find("val_episodes"); v != section.end() && v->is_array()) c.val_episodes = whole_numbers(*v, "val_episodes");
}

TrainConfig read_checkpoint_train_config(const std::filesystem::path& dir) {
  TrainConfig c = train_config_from_json(util::read_json_file(dir / "train_config.json"));
  const Json extras = policy::read_robotrain_section(dir, "policy");  // named: items() must not outlive it
  for (auto& [k, v] : extras.items()) c.policy[k] = v;
  apply_robotrain_train_json(c, policy::read_robotrain_section(dir, "train"));
  // A local dataset's recorded name is not a repo id: the run goes on naming it by its root.
  DatasetConfig unnamed;
  unnamed.root = c.dataset.root;
  if (c.dataset_source == "local" && Json(c.dataset.repo_id) == recorded_dataset_repo_id(unnamed)) c.dataset.repo_id.clear();
  return c;
}

TrainConfig train_config_from_json(const Json& j) {
  if (!j.is_object()) throw util::InputError("train_config.json: expected a JSON object at the top level");
  TrainConfig c;
  if (auto it = j.find("dataset"); it != j.end() && it->is_object()) {
    const Json& d = *it;
    c.dataset.repo_id = get_or<std::string>(d, "repo_id", "");
    c.dataset.root = get_or<std::string>(d, "root", "");
    if (auto e = d.find("episodes"); e != d.end() && e->is_array()) c.dataset.episodes = whole_numbers(*e, "episodes");
    c.dataset.image_transforms = transforms_from_json(d.value("image_transforms", Json()));
    c.dataset.revision = get_or<std::string>(d, "revision", "");
    c.dataset.use_imagenet_stats = get_or(d, "use_imagenet_stats", c.dataset.use_imagenet_stats);
    c.dataset.video_backend = get_or<std::string>(d, "video_backend", c.dataset.video_backend);
    c.dataset.streaming = get_or(d, "streaming", false);
    // LeRobot would stream the dataset from the Hub; robotrain reads it from disk.
    if (c.dataset.streaming)
      throw util::InputError("dataset.streaming true is not supported: robotrain trains from files on disk; "
                             "drop it (--dataset.repo_id downloads the dataset to the hub cache first)");
  }
  if (auto it = j.find("policy"); it != j.end() && it->is_object()) c.policy = *it;
  c.output_dir = get_or<std::string>(j, "output_dir", "");
  c.job_name = get_or<std::string>(j, "job_name", "");
  c.resume = get_or(j, "resume", false);
  c.seed = get_or<int64_t>(j, "seed", c.seed);
  c.num_workers = get_or(j, "num_workers", c.num_workers);
  c.batch_size = get_or(j, "batch_size", c.batch_size);
  c.steps = get_or<int64_t>(j, "steps", c.steps);
  c.eval_freq = get_or<int64_t>(j, "eval_freq", c.eval_freq);
  c.log_freq = get_or<int64_t>(j, "log_freq", c.log_freq);
  c.tolerance_s = get_or(j, "tolerance_s", c.tolerance_s);
  c.save_checkpoint = get_or(j, "save_checkpoint", c.save_checkpoint);
  c.save_freq = get_or<int64_t>(j, "save_freq", c.save_freq);
  c.use_policy_training_preset = get_or(j, "use_policy_training_preset", c.use_policy_training_preset);
  apply_robotrain_train_json(c, j);  // where checkpoints before robotrain.json kept them
  if (auto it = j.find("optimizer"); it != j.end() && it->is_object()) c.optimizer = optimizer_from_json(*it);
  if (auto it = j.find("scheduler"); it != j.end() && it->is_object()) {
    SchedulerConfig s;
    s.type = get_or<std::string>(*it, "type", "");
    s.name = get_or<std::string>(*it, "name", s.name);
    s.num_warmup_steps = get_or<int64_t>(*it, "num_warmup_steps", 0);
    c.scheduler = s;
  }
  return c;
}

Json parse_override_value(const std::string& text) {
  std::string t = util::trim(text);
  if (t.empty()) return Json(text);
  // Python-style literals that draccus accepts on the command line.
  if (t == "True" || t == "true") return true;
  if (t == "False" || t == "false") return false;
  if (t == "None" || t == "null") return nullptr;
  char c = t.front();
  bool json_like = c == '[' || c == '{' || c == '-' || c == '.' || (c >= '0' && c <= '9') || c == '"';
  if (json_like) {
    // "(0.9, 0.999)" tuples are written as lists in JSON.
    auto parsed = Json::parse(t, nullptr, false);
    if (!parsed.is_discarded()) return parsed;
  }
  if (c == '(' && t.back() == ')') {
    auto parsed = Json::parse("[" + t.substr(1, t.size() - 2) + "]", nullptr, false);
    if (!parsed.is_discarded()) return parsed;
  }
  return Json(text);
}

void set_dotted(Json& target, const std::string& dotted_path, Json value) {
  auto parts = util::split(dotted_path, '.');
  Json* node = &target;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    Json& next = (*node)[parts[i]];
    if (!next.is_object()) next = Json::object();
    node = &next;
  }
  (*node)[parts.back()] = std::move(value);
}

std::vector<int64_t> parse_episode_list(const std::string& text) {
  std::string t = util::trim(text);
  if (!t.empty() && (t.front() == '[' || t.front() == '(')) t = t.substr(1);
  if (!t.empty() && (t.back() == ']' || t.back() == ')')) t.pop_back();
  std::vector<int64_t> out;
  std::set<int64_t> seen;
  for (const auto& part : util::split(t, ',')) {
    auto p = util::trim(part);
    if (p.empty()) continue;
    int64_t v = 0;
    if (!util::parse_int64(p, v) || v < 0)
      throw util::InputError(util::cat("--dataset.episodes: '", p, "' is not a non-negative episode index; use e.g. [0,2,5]"));
    if (!seen.insert(v).second)
      throw util::InputError(util::cat("--dataset.episodes: episode ", v, " is listed twice; list each episode once"));
    out.push_back(v);
  }
  if (out.empty()) throw util::InputError("--dataset.episodes: empty list; give at least one episode index, e.g. [0,1]");
  return out;
}

}  // namespace robotrain::train
