#pragma once
// The held-out validation episodes (--val-split): fixed when a run starts, recorded in the
// checkpoint (robotrain.json's train section: val_episodes) so that resumed runs and
// `robotrain eval` use the same split, and never trained on.
#include <cstdint>
#include <vector>

namespace robotrain::dataset {

// The fraction of episodes a new run holds out unless told otherwise (train --val-split,
// submit --val-split).
inline constexpr double kDefaultValSplit = 0.1;

// round(val_split * n) of `episodes` (at least one when val_split > 0, never all of them:
// with a single episode nothing is held out), drawn by a shuffle seeded by `seed` so they
// spread over the recording rather than being the last ones. Sorted.
std::vector<int64_t> choose_val_episodes(const std::vector<int64_t>& episodes, double val_split, uint64_t seed);

// `episodes` without `held_out`, in order.
std::vector<int64_t> without_episodes(const std::vector<int64_t>& episodes, const std::vector<int64_t>& held_out);

}  // namespace robotrain::dataset
