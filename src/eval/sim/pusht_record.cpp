#include "eval/sim/pusht_record.h"

#include "dataset/dataset_writer.h"
#include "eval/pusht/pusht_env.h"
#include "eval/pusht/pusht_expert.h"
#include "util/error.h"

namespace robotrain::eval {

namespace {

using dataset::Array;
using dataset::DType;

Array floats(const std::vector<float>& v) {
  Array a(DType::Float32, {static_cast<int64_t>(v.size())});
  std::copy(v.begin(), v.end(), a.data<float>());
  return a;
}

bool records_pixels(const std::string& obs_type) { return obs_type == "pixels_agent_pos"; }

Array image(const std::vector<uint8_t>& rgb, int size) {
  Array a(DType::UInt8, {size, size, 3});
  std::copy(rgb.begin(), rgb.end(), a.data<uint8_t>());
  return a;
}

std::vector<dataset::Feature> pusht_features(int size, const std::string& obs_type) {
  std::vector<dataset::Feature> observation;
  if (records_pixels(obs_type))
    observation.push_back({"observation.image", "video", {size, size, 3}, util::Json(nullptr), util::Json(nullptr)});
  else
    observation.push_back({"observation.environment_state", "float32", {pusht::kEnvironmentStateDim},
                           util::Json{"block_x", "block_y", "block_cos_angle", "block_sin_angle"}, util::Json(nullptr)});
  std::vector<dataset::Feature> rest = {
          {"observation.state", "float32", {2}, util::Json{"x", "y"}, util::Json(nullptr)},
          {"action", "float32", {2}, util::Json{"x", "y"}, util::Json(nullptr)},
          {"next.reward", "float32", {1}, util::Json(nullptr), util::Json(nullptr)},
          {"next.success", "bool", {1}, util::Json(nullptr), util::Json(nullptr)}};
  observation.insert(observation.end(), rest.begin(), rest.end());
  return observation;
}

}  // namespace

void validate_obs_type(const std::string& obs_type) {
  if (obs_type != "pixels_agent_pos" && obs_type != "environment_state_agent_pos")
    throw util::InputError("--obs-type '" + obs_type + "': use pixels_agent_pos (video) or environment_state_agent_pos (block pose)");
}

RecordSummary record_pusht(const std::filesystem::path& output, const RecordOptions& o,
                           const std::function<void(const std::string&)>& progress) {
  if (o.episodes < 1) throw util::InputError("--episodes must be a positive integer");
  validate_obs_type(o.obs_type);
  pusht::PushTConfig cfg;
  cfg.render = records_pixels(o.obs_type);
  dataset::WriterOptions wo;
  wo.fps = cfg.control_hz;
  wo.robot_type = "2d pointer";
  wo.features = pusht_features(cfg.image_size, o.obs_type);
  wo.video.codec = o.codec;
  wo.overwrite = o.overwrite;
  dataset::DatasetWriter writer(output, wo);
  RecordSummary s;
  const std::string task = "Push the T-shaped block onto the T-shaped target.";
  while (s.episodes_written < o.episodes && s.attempts < o.episodes * o.max_attempts_factor) {
    uint64_t seed = o.seed + static_cast<uint64_t>(s.attempts++);
    pusht::PushTEnv env(cfg);
    auto obs = env.reset(seed);
    pusht::PushTExpert expert;
    std::vector<std::map<std::string, Array>> frames;
    pusht::StepResult r;
    do {
      auto action = expert.act(env.state());
      r = env.step(action);
      std::map<std::string, Array> frame{
                        {"observation.state", floats({static_cast<float>(obs.agent_pos.x), static_cast<float>(obs.agent_pos.y)})},
                        {"action", floats({static_cast<float>(action.x), static_cast<float>(action.y)})},
                        {"next.reward", floats({static_cast<float>(r.reward)})},
                        {"next.success", [&] {
                           Array b(DType::Bool, {1});
                           b.data<uint8_t>()[0] = r.success;
                           return b;
                         }()}};
      if (cfg.render) frame.emplace("observation.image", image(obs.image, cfg.image_size));
      else frame.emplace("observation.environment_state", floats(pusht::environment_state(obs.block)));
      frames.push_back(std::move(frame));
      obs = r.observation;
    } while (!r.done);
    s.successes += r.success;
    if (o.only_success && !r.success) continue;
    writer.begin_episode();
    for (auto& f : frames) writer.add_frame(f, task);
    writer.end_episode();
    s.frames += static_cast<int64_t>(frames.size());
    ++s.episodes_written;
    if (progress) progress("recorded episode " + std::to_string(s.episodes_written) + "/" + std::to_string(o.episodes) + " (seed " +
                           std::to_string(seed) + ", " + std::to_string(frames.size()) + " frames)");
  }
  if (s.episodes_written == 0)
    throw util::RuntimeError("the expert solved none of " + std::to_string(s.attempts) + " episodes: nothing to record (try --all-episodes)");
  writer.finish();
  return s;
}

}  // namespace robotrain::eval
