#include "train/val_split.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace robotrain::train {

namespace {
uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
}  // namespace

std::vector<int64_t> choose_val_episodes(const std::vector<int64_t>& episodes, double val_split, uint64_t seed) {
  const auto n = static_cast<int64_t>(episodes.size());
  if (val_split <= 0 || n < 2) return {};
  int64_t k = static_cast<int64_t>(std::llround(val_split * static_cast<double>(n)));
  k = std::clamp<int64_t>(k, 1, n - 1);
  std::vector<int64_t> pool = episodes;
  uint64_t state = seed ^ 0x76616C5F73706C74ull;  // "val_splt": independent of the sampler's stream
  for (size_t i = pool.size(); i > 1; --i) std::swap(pool[i - 1], pool[splitmix64(state) % i]);
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

}  // namespace robotrain::train
