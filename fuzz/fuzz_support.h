#pragma once
// Shared by the libFuzzer harnesses. A parser of untrusted bytes may fail only with
// util::Error (a one-line message for the user); any other exception escaping it becomes
// "an unexpected internal error" for the user. Harnesses of robotrain's own binary parsers
// (Parquet, safetensors) always treat such an exception as a finding; the others do when
// ROBOTRAIN_FUZZ_STRICT=1, so that a long run is not stopped by the first shallow one.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include "util/error.h"

namespace robotrain::fuzz {

inline bool strict_from_env() {
  const char* v = std::getenv("ROBOTRAIN_FUZZ_STRICT");
  return v && std::string_view(v) == "1";
}

[[noreturn]] inline void finding(const char* what, const std::exception& e) {
  std::fprintf(stderr, "FINDING: %s escaped the parser: %s\n", what, e.what());
  std::abort();
}

// Runs fn; util::Error is the expected failure of bad input.
template <class Fn>
void guarded(bool strict, Fn&& fn) {
  try {
    fn();
  } catch (const util::Error&) {
  } catch (const std::bad_alloc& e) {
    finding("std::bad_alloc", e);  // an allocation sized from the input
  } catch (const std::exception& e) {
    if (strict) finding("a non-robotrain exception", e);
  }
}

inline std::string_view as_view(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace robotrain::fuzz
