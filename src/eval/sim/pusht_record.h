#pragma once
// `robotrain sim record pusht`: scripted-expert demonstrations written as a LeRobot v3.0
// dataset (observation.image video 96x96 as LeRobot encodes it, observation.state = agent
// position, action = commanded target, next.reward, next.success), like lerobot/pusht.
// obs_type "environment_state_agent_pos" (gym-pusht's name) records the block pose as
// observation.environment_state instead of the video, for fast state-based policies.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

namespace robotrain::eval {

struct RecordOptions {
  int episodes = 10;
  uint64_t seed = 0;
  bool only_success = true;  // keep an episode only when the expert solved it
  int max_attempts_factor = 5;  // give up after episodes * factor tries
  bool overwrite = false;
  std::string codec = "libsvtav1";
  std::string obs_type = "pixels_agent_pos";  // or environment_state_agent_pos
};

// InputError for anything but the two observation types above.
void validate_obs_type(const std::string& obs_type);

struct RecordSummary {
  int episodes_written = 0;
  int attempts = 0;
  int successes = 0;
  int64_t frames = 0;
};

RecordSummary record_pusht(const std::filesystem::path& output, const RecordOptions& options,
                           const std::function<void(const std::string&)>& progress = {});

}  // namespace robotrain::eval
