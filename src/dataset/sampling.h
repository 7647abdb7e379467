#pragma once
// LeRobot's delta_timestamps rule for one anchor: frame offsets clamped to the episode, with
// a pad flag wherever the unclamped frame falls outside it.
#include <cstdint>
#include <vector>

namespace robotrain::dataset {

struct DeltaQuery {
  std::vector<int64_t> indices;  // global frame indices, clamped to [ep_start, ep_end - 1]
  std::vector<uint8_t> is_pad;   // 1 where anchor + delta was outside the episode
};

// ep_end is exclusive.
DeltaQuery delta_query(int64_t anchor, int64_t ep_start, int64_t ep_end, const std::vector<int>& deltas);

// Seconds -> frame offsets as LeRobot's get_delta_indices (round(d * fps)); InputError when a
// delta is not a multiple of 1/fps within tolerance_s (check_delta_timestamps).
std::vector<int> delta_indices_from_seconds(const std::vector<double>& seconds, int fps, double tolerance_s = 1e-4);

}  // namespace robotrain::dataset
