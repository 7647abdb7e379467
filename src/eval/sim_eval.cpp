#include "eval/sim_eval.h"

#include <algorithm>
#include <cstring>
#include <random>

#include "dataset/video/video.h"
#include "eval/pusht/pusht_env.h"
#include "eval/pusht/pusht_expert.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"

namespace robotrain::eval {

namespace {

using pusht::PushTEnv;
using pusht::Vec2;

struct EpisodeOutcome {
  uint64_t seed = 0;
  bool success = false;
  double max_reward = 0;
  int steps = 0;
};

// Which policy inputs the environment fills: camera, agent position, block pose.
struct ObservationKeys {
  std::string image, state, env;
};

ObservationKeys observation_keys(const util::Json& config) {
  ObservationKeys keys;
  for (auto& [k, v] : config["input_features"].items()) {
    std::string t = v.value("type", "");
    if (t == "VISUAL" && keys.image.empty()) keys.image = k;
    if (t == "STATE" && keys.state.empty()) keys.state = k;
    if (t == "ENV" && keys.env.empty()) keys.env = k;
  }
  if (keys.image.empty() && keys.state.empty() && keys.env.empty())
    throw util::InputError("the policy has neither a camera nor a state input: it cannot be evaluated on Push-T");
  if (keys.env.size() && config["input_features"][keys.env].value("shape", util::Json::array()) != util::Json{pusht::kEnvironmentStateDim})
    throw util::InputError("the policy's " + keys.env + " is not Push-T's block pose (" + std::to_string(pusht::kEnvironmentStateDim) +
                           " values): record demonstrations with `robotrain sim record pusht --obs-type environment_state_agent_pos`");
  return keys;
}

const char* video_encoder() {
  static const char* name = [] {
    for (const char* c : {"libx264", "libsvtav1", "mpeg4"}) {
      try {
        util::TempDir tmp;
        dataset::video::EncoderOptions o;
        o.codec = c;
        o.width = o.height = 96;
        dataset::video::Encoder(tmp.path() / "probe.mp4", o);
        return c;
      } catch (const std::exception&) {
      }
    }
    return "mpeg4";
  }();
  return name;
}

// Runs `count` episodes from `first_seed` with one policy call per step for all of them.
template <class Act>
std::vector<EpisodeOutcome> run_group(uint64_t first_seed, int count, Act act, const SimEvalOptions& o, int video_slots,
                                      const std::filesystem::path& video_dir, int first_episode) {
  pusht::PushTConfig cfg;
  std::vector<PushTEnv> envs;
  std::vector<pusht::PushTObservation> obs(count);
  std::vector<EpisodeOutcome> out(count);
  std::vector<bool> done(count, false);
  std::vector<std::unique_ptr<dataset::video::Encoder>> videos(count);
  for (int i = 0; i < count; ++i) {
    envs.emplace_back(cfg);
    out[i].seed = first_seed + i;
    obs[i] = envs[i].reset(out[i].seed);
    if (first_episode + i < video_slots) {
      dataset::video::EncoderOptions vo;
      vo.codec = video_encoder();
      vo.width = vo.height = 256;
      vo.fps = cfg.control_hz;
      vo.gop = 10;
      std::filesystem::create_directories(video_dir);
      videos[i] = std::make_unique<dataset::video::Encoder>(video_dir / ("episode_" + std::to_string(first_episode + i) + ".mp4"), vo);
      videos[i]->add_frame(envs[i].render(256).data());
    }
  }
  while (std::find(done.begin(), done.end(), false) != done.end()) {
    std::vector<Vec2> actions = act(envs, obs, done);
    for (int i = 0; i < count; ++i) {
      if (done[i]) continue;
      auto r = envs[i].step(actions[i]);
      obs[i] = r.observation;
      out[i].max_reward = std::max(out[i].max_reward, r.reward);
      out[i].success = out[i].success || r.success;
      out[i].steps = envs[i].steps_taken();
      if (videos[i]) videos[i]->add_frame(envs[i].render(256).data());
      if (r.done) {
        done[i] = true;
        if (videos[i]) videos[i]->finish();
      }
    }
  }
  return out;
}

util::Json summarize(const std::vector<EpisodeOutcome>& eps) {
  util::Json per = util::Json::array();
  double success = 0, reward = 0;
  for (size_t i = 0; i < eps.size(); ++i) {
    per.push_back({{"episode", i}, {"seed", eps[i].seed}, {"success", eps[i].success}, {"max_reward", eps[i].max_reward}, {"steps", eps[i].steps}});
    success += eps[i].success;
    reward += eps[i].max_reward;
  }
  double n = std::max<size_t>(eps.size(), 1);
  return {{"success_rate", success / n}, {"avg_max_reward", reward / n}, {"episodes", eps.size()}, {"per_episode", per}};
}

template <class Act>
std::vector<EpisodeOutcome> run_all(const SimEvalOptions& o, Act act, int video_slots, const std::string& label) {
  std::vector<EpisodeOutcome> all;
  for (int start = 0; start < o.episodes; start += o.parallel) {
    int count = std::min(o.parallel, o.episodes - start);
    auto group = run_group(o.seed + start, count, act, o, video_slots, o.output_dir / "videos", start);
    all.insert(all.end(), group.begin(), group.end());
    int ok = 0;
    for (auto& e : all) ok += e.success;
    util::log_info(label + ": " + std::to_string(all.size()) + "/" + std::to_string(o.episodes) + " episodes, " + std::to_string(ok) + " successes");
  }
  return all;
}

}  // namespace

util::Json evaluate_pusht(policy::Policy* policy, const SimEvalOptions& o) {
  if (o.episodes < 1) throw util::InputError("--eval-episodes must be a positive integer");
  if (o.parallel < 1) throw util::InputError("--parallel-envs must be a positive integer");
  std::filesystem::create_directories(o.output_dir);
  util::Json result;
  if (policy) {
    const ObservationKeys keys = observation_keys(policy->config_json());
    auto device = torch::Device(o.device);
    policy->to(device);
    policy->eval();
    auto act = [&](std::vector<PushTEnv>& envs, std::vector<pusht::PushTObservation>& obs,
                                                                   const std::vector<bool>&) {
      const int64_t B = static_cast<int64_t>(envs.size());
      policy::TensorMap batch;
      if (!keys.image.empty()) {
        auto img = torch::empty({B, 96, 96, 3}, torch::kUInt8);
        for (int64_t i = 0; i < B; ++i) std::memcpy(img[i].data_ptr(), obs[i].image.data(), obs[i].image.size());
        batch[keys.image] = img.permute({0, 3, 1, 2}).to(torch::kFloat32).div(255.0).to(device);
      }
      if (!keys.state.empty()) {
        auto st = torch::empty({B, 2}, torch::kFloat32);
        for (int64_t i = 0; i < B; ++i) {
          st[i][0] = obs[i].agent_pos.x;
          st[i][1] = obs[i].agent_pos.y;
        }
        batch[keys.state] = st.to(device);
      }
      if (!keys.env.empty()) {
        auto env = torch::empty({B, pusht::kEnvironmentStateDim}, torch::kFloat32);
        for (int64_t i = 0; i < B; ++i) {
          auto values = pusht::environment_state(obs[i].block);
          std::memcpy(env[i].data_ptr(), values.data(), values.size() * sizeof(float));
        }
        batch[keys.env] = env.to(device);
      }
      torch::NoGradGuard ng;
      auto a = policy->select_action(batch).to(torch::kCPU, torch::kFloat64);
      std::vector<Vec2> out(B);
      for (int64_t i = 0; i < B; ++i) out[i] = {a[i][0].item<double>(), a[i][1].item<double>()};
      return out;
    };
    auto policy_act = [&](std::vector<PushTEnv>& envs, std::vector<pusht::PushTObservation>& obs, const std::vector<bool>& done) {
      if (envs.front().steps_taken() == 0) policy->reset();  // a new group of episodes
      return act(envs, obs, done);
    };
    result["policy"] = summarize(run_all(o, policy_act, o.videos, "policy"));
  } else {
    std::vector<pusht::PushTExpert> experts;
    auto expert_act = [&](std::vector<PushTEnv>& envs, std::vector<pusht::PushTObservation>&, const std::vector<bool>&) {
      if (envs.front().steps_taken() == 0) experts.assign(envs.size(), pusht::PushTExpert());
      std::vector<Vec2> out(envs.size());
      for (size_t i = 0; i < envs.size(); ++i) out[i] = experts[i].act(envs[i].state());
      return out;
    };
    result["policy"] = summarize(run_all(o, expert_act, o.videos, "expert"));
    result["policy"]["name"] = "scripted expert";
  }
  if (o.baselines) {
    auto still = [](std::vector<PushTEnv>& envs, std::vector<pusht::PushTObservation>& obs, const std::vector<bool>&) {
      std::vector<Vec2> out(envs.size());
      for (size_t i = 0; i < envs.size(); ++i) out[i] = obs[i].agent_pos;
      return out;
    };
    std::mt19937_64 rng(o.seed ^ 0xBADC0FFEEull);
    auto random = [&rng](std::vector<PushTEnv>& envs, std::vector<pusht::PushTObservation>&, const std::vector<bool>&) {
      std::uniform_real_distribution<double> u(0, 512);
      std::vector<Vec2> out(envs.size());
      for (auto& a : out) a = {u(rng), u(rng)};
      return out;
    };
    SimEvalOptions b = o;
    result["baseline_zero_motion"] = summarize(run_all(b, still, 0, "zero-motion baseline"));
    result["baseline_random"] = summarize(run_all(b, random, 0, "random baseline"));
  }
  result["seed"] = o.seed;
  result["episodes"] = o.episodes;
  result["env"] = "pusht";
  util::write_json_file(o.output_dir / "eval_info.json", result, 2);
  return result;
}

}  // namespace robotrain::eval
