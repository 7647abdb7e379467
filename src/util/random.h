#pragma once
// A tiny seeded generator whose stream is fixed by its formula (splitmix64): std::mt19937's
// distributions differ between standard libraries, and resumed runs must draw the same values.
#include <cstdint>

namespace robotrain::util {

inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace robotrain::util
