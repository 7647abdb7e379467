#include "train/training_state.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>

#include <cstdint>
#include <mutex>
#include <random>
#include <sstream>

#include "train/tensor_file.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/strings.h"

namespace robotrain::train {

namespace fs = std::filesystem;
using util::Json;

namespace {

// The 624 words of an MT19937 seeded with `seed` (valid state for Python's random / numpy).
std::vector<int64_t> mt19937_words(uint64_t seed) {
  std::mt19937 mt(static_cast<uint32_t>(seed));
  std::stringstream ss;
  ss << mt;
  std::vector<int64_t> words;
  int64_t w;
  while (words.size() < 624 && ss >> w) words.push_back(w);
  return words;
}

at::Generator cuda_generator() { return at::globalContext().defaultGenerator(c10::DeviceType::CUDA); }

// A resume that trusted a damaged file would start at a negative step or seek the loader to a
// negative sample: every value read back is checked, naming the file and what to do.
[[noreturn]] void damaged(const fs::path& file, const std::string& what) {
  throw util::InputError(util::cat(file.string(), ": ", what, "; the checkpoint is damaged: resume from another ",
                                   "checkpoint (--config_path RUN/checkpoints/<step>/pretrained_model/train_config.json)"));
}

int64_t read_training_step(const fs::path& file) {
  auto j = util::read_json_file(file);
  if (!j.is_object() || !j.contains("step") || !j["step"].is_number_integer())
    damaged(file, "expected {\"step\": N} with N a whole number");
  if (j["step"].is_number_unsigned() && j["step"].get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
    damaged(file, "step is out of range");
  const int64_t step = j["step"].get<int64_t>();
  if (step < 0) damaged(file, util::cat("step is ", step, ", not a step count (0 or more)"));
  return step;
}

void check_count(const Json& state, const char* key, int64_t min, const fs::path& file) {
  if (!state.contains(key)) return;
  const Json& v = state[key];
  if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) ||
      v.get<int64_t>() < min)
    damaged(file, util::cat(key, " must be an integer >= ", min, ", got ", v.dump()));
}

void check_robotrain_state(const Json& state, const fs::path& file) {
  if (!state.is_object()) damaged(file, "expected a JSON object");
  check_count(state, "samples_consumed", 0, file);
  check_count(state, "world_size", 1, file);
  if (state.contains("tracking") && !state["tracking"].is_null()) {
    const Json& t = state["tracking"];
    if (!t.is_object()) damaged(file, "tracking must be an object");
    for (const char* k : {"run_id", "experiment_id", "tracking_uri"})
      if (t.contains(k) && !t[k].is_string()) damaged(file, util::cat("tracking.", k, " must be a string"));
  }
  if (state.contains("loss_scaler") && !state["loss_scaler"].is_null() && !state["loss_scaler"].is_object())
    damaged(file, "loss_scaler must be an object or null");
}

}  // namespace

NamedTensors capture_rng_state(uint64_t seed) {
  NamedTensors out;
  auto words = mt19937_words(seed);
  auto py = words;
  py.push_back(624);
  out.emplace_back("py_rng_version", torch::tensor(std::vector<int64_t>{3}));
  out.emplace_back("py_rng_state", torch::tensor(py));
  out.emplace_back("np_rng_state_values", torch::tensor(words));
  out.emplace_back("np_rng_state_index", torch::tensor(std::vector<int64_t>{624}));
  out.emplace_back("np_rng_has_gauss", torch::tensor(std::vector<int64_t>{0}));
  out.emplace_back("np_rng_cached_gaussian", torch::tensor(std::vector<float>{0.0f}));
  {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    out.emplace_back("torch_rng_state", gen.get_state());
  }
  if (torch::cuda::is_available()) {
    auto gen = cuda_generator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    out.emplace_back("torch_cuda_rng_state", gen.get_state());
  }
  return out;
}

void restore_rng_state(const std::map<std::string, torch::Tensor>& state) {
  auto it = state.find("torch_rng_state");
  if (it == state.end()) throw util::RuntimeError("rng_state.safetensors: 'torch_rng_state' missing");
  {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(it->second);
  }
  auto cuda = state.find("torch_cuda_rng_state");
  if (cuda != state.end() && torch::cuda::is_available()) {
    auto gen = cuda_generator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(cuda->second);
  }
}

void save_training_state(const fs::path& dir, const TrainingState& state, const Optimizer& optimizer,
                         const LrScheduler* scheduler, uint64_t seed) {
  fs::create_directories(dir);
  util::write_json_file(dir / "training_step.json", Json{{"step", state.step}});
  save_tensor_file(dir / "rng_state.safetensors", capture_rng_state(seed));
  save_tensor_file(dir / "optimizer_state.safetensors", optimizer.state_tensors());
  util::write_json_file(dir / "optimizer_param_groups.json", optimizer.param_groups_json(scheduler != nullptr));
  if (scheduler) util::write_json_file(dir / "scheduler_state.json", scheduler->state_json());
  util::write_json_file(dir / "robotrain_state.json", state.robotrain);
}

TrainingState load_training_state(const fs::path& dir, Optimizer& optimizer, LrScheduler* scheduler) {
  if (!fs::is_directory(dir))
    throw util::RuntimeError(util::cat(dir.string(), ": no training_state directory; cannot resume from this checkpoint"));
  TrainingState st;
  st.step = read_training_step(dir / "training_step.json");
  optimizer.load(load_tensor_file(dir / "optimizer_state.safetensors"),
                 util::read_json_file(dir / "optimizer_param_groups.json"));
  if (scheduler) {
    if (fs::exists(dir / "scheduler_state.json"))
      scheduler->load(util::read_json_file(dir / "scheduler_state.json"));
    else  // a checkpoint without scheduler state: continue the schedule from the step
      scheduler->load(Json{{"last_epoch", st.step}});
  }
  restore_rng_state(load_tensor_file(dir / "rng_state.safetensors"));
  if (fs::exists(dir / "robotrain_state.json")) {
    st.robotrain = util::read_json_file(dir / "robotrain_state.json");
    check_robotrain_state(st.robotrain, dir / "robotrain_state.json");
  }
  return st;
}

}  // namespace robotrain::train
