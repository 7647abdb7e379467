#include "eval/replay_eval.h"

#include <chrono>
#include <cstring>

#include "dataset/lerobot_dataset.h"
#include "eval/report/replay_report.h"
#include "policy/robotrain_json.h"
#include "util/error.h"
#include "util/log.h"

namespace robotrain::eval {

namespace fs = std::filesystem;

namespace {

torch::Tensor to_tensor(const dataset::Array& a) {
  torch::ScalarType t = a.dtype == dataset::DType::Float32 ? torch::kFloat32
                        : a.dtype == dataset::DType::Int64 ? torch::kInt64
                        : a.dtype == dataset::DType::Bool  ? torch::kBool
                                                           : torch::kUInt8;
  auto out = torch::empty(a.shape, t);
  std::memcpy(out.data_ptr(), a.bytes.data(), a.bytes.size());
  return out;
}

}  // namespace

std::vector<int64_t> held_out_episodes(const fs::path& pretrained_dir, int64_t total, int n) {
  auto first_n = [n](const util::Json& v) {
    auto eps = v.get<std::vector<int64_t>>();
    if (static_cast<int>(eps.size()) > n) eps.resize(n);
    return eps;
  };
  for (const fs::path& dir : {pretrained_dir, pretrained_dir.parent_path() / "pretrained_model"}) {
    auto train = policy::read_robotrain_section(dir, "train");
    if (auto v = train.find("val_episodes"); v != train.end() && v->is_array() && !v->empty()) return first_n(*v);
    // Checkpoints written before robotrain.json, or by other tools: train_config.json.
    if (!fs::exists(dir / "train_config.json")) continue;
    auto j = util::read_json_file(dir / "train_config.json");
    for (const char* key : {"val_episodes", "eval_episodes", "held_out_episodes"}) {
      const util::Json* v = nullptr;
      if (j.contains(key)) v = &j[key];
      else if (j.contains("dataset") && j["dataset"].is_object() && j["dataset"].contains(key)) v = &j["dataset"][key];
      if (v && v->is_array() && !v->empty()) return first_n(*v);
    }
  }
  std::vector<int64_t> out;
  for (int64_t e = std::max<int64_t>(0, total - n); e < total; ++e) out.push_back(e);
  return out;
}

util::Json evaluate_replay(policy::Policy& policy, const fs::path& root, const ReplayOptions& o) {
  auto config = policy.config_json();
  std::vector<std::string> inputs;
  for (auto& [k, v] : config["input_features"].items()) inputs.push_back(k);
  std::string action_key;
  for (auto& [k, v] : config["output_features"].items()) action_key = k;
  dataset::DatasetOptions dopt;
  dataset::LeRobotDataset ds(root, dopt);
  auto& meta = ds.meta();
  if (!meta.feature(action_key)) throw util::InputError("dataset " + root.string() + " has no '" + action_key + "' to compare with");
  for (auto& k : inputs)
    if (!meta.feature(k)) throw util::InputError("dataset " + root.string() + " lacks the policy input '" + k + "'");
  std::vector<int64_t> episodes = o.episode_indices;
  if (episodes.empty()) episodes = held_out_episodes(fs::path(o.policy_path), meta.total_episodes, o.episodes);
  const auto& used = ds.episodes_used();
  torch::Device device(o.device);
  policy.to(device);
  policy.eval();
  std::vector<EpisodeReplay> replays;
  std::vector<EpisodeMetrics> metrics;
  for (int64_t ep : episodes) {
    if (std::find(used.begin(), used.end(), ep) == used.end()) {
      util::log_warn("episode " + std::to_string(ep) + " is not readable in " + root.string() + ": skipped");
      continue;
    }
    const auto& e = meta.episodes.at(ep);
    EpisodeReplay r;
    r.episode_index = ep;
    policy.reset();
    for (int64_t idx = e.from_index; idx < e.to_index; ++idx) {
      auto sample = ds.get(idx);
      policy::TensorMap obs;
      for (auto& k : inputs) obs[k] = to_tensor(sample.arrays.at(k)).unsqueeze(0).to(device);
      auto t0 = std::chrono::steady_clock::now();
      torch::Tensor a;
      {
        torch::NoGradGuard ng;
        a = policy.select_action(obs).to(torch::kCPU, torch::kFloat64).flatten();
      }
      r.latency_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      auto rec = to_tensor(sample.arrays.at(action_key)).to(torch::kFloat64).flatten();
      r.predicted.emplace_back(a.data_ptr<double>(), a.data_ptr<double>() + a.numel());
      r.recorded.emplace_back(rec.data_ptr<double>(), rec.data_ptr<double>() + rec.numel());
    }
    metrics.push_back(episode_metrics(r));
    util::log_info("episode " + std::to_string(ep) + ": mse " + std::to_string(metrics.back().mse) + ", mae " + std::to_string(metrics.back().mae));
    replays.push_back(std::move(r));
  }
  if (replays.empty()) throw util::RuntimeError("no episode of " + root.string() + " could be evaluated");
  auto agg = aggregate_metrics(metrics);
  ReplayReportInfo info;
  info.policy_path = o.policy_path;
  info.policy_type = policy.type();
  info.dataset = root.string();
  info.device = o.device;
  info.fps = meta.fps;
  if (auto* f = meta.feature(action_key); f && f->names.is_array())
    for (auto& n : f->names) info.action_names.push_back(n.is_string() ? n.get<std::string>() : n.dump());
  auto m = write_replay_report(o.output_dir, info, replays, metrics, agg);
  util::Json out;
  out["aggregate"] = to_json(agg);
  out["metrics"] = m;
  out["episodes"] = util::Json::array();
  for (size_t i = 0; i < metrics.size(); ++i) {
    auto j = to_json(metrics[i]);
    j["episode_index"] = metrics[i].episode_index;
    out["episodes"].push_back(j);
  }
  return out;
}

}  // namespace robotrain::eval
