#include "dataset/val_split.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "util/random.h"

namespace robotrain::dataset {

std::vector<int64_t> choose_val_episodes(const std::vector<int64_t>& episodes, double val_split, uint64_t seed) {
  const auto n = static_cast<int64_t>(episodes.size());
  if (val_split <= 0 || n < 2) return {};
  int64_t k = static_cast<int64_t>(std::llround(val_split * static_cast<double>(n)));
  k = std::clamp<int64_t>(k, 1, n - 1);
  std::vector<int64_t> pool = episodes;
  uint64_t state = seed ^ 0x76616C5F73706C74ull;  // "val_splt": independent of the sampler's stream
  for (size_t i = pool.size(); i > 1; --i) std::swap(pool[i - 1], pool[util::splitmix64(state) % i]);
  pool.resize(static_cast<size_t>(k));
  std::sort(pool.begin(), pool.end());
  return pool;
}

std::vector<int64_t> without_episodes(const std::vector<int64_t>& episodes, const std::vector<int64_t>& held_out) {
  std::set<int64_t> out(held_out.begin(), held_out.end());
  std::vector<int64_t> keep;
  for (auto e : episodes)
    if (!out.count(e)) keep.push_back(e);
  return keep;
}

}  // namespace robotrain::dataset
