// The safetensors header and its byte ranges (model weights, normalizer stats, training state).
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "util/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  robotrain::fuzz::guarded(true, [&] {
    auto file = robotrain::util::parse_safetensors(bytes, "fuzz.safetensors");
    // What parses must serialize and parse back to the same tensors.
    auto again = robotrain::util::parse_safetensors(robotrain::util::serialize_safetensors(file), "again");
    if (again.tensors.size() != file.tensors.size()) __builtin_trap();
  });
  return 0;
}
