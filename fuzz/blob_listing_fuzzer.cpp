// Azure Blob's List Blobs answer (XML EnumerationResults, parsed with pugixml), as a hostile
// server may send it.
#include <cstdint>
#include <string_view>

#include "fuzz_support.h"
#include "storage/blob_listing.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool strict = robotrain::fuzz::strict_from_env();
  robotrain::fuzz::guarded(strict, [&] {
    auto page = robotrain::storage::parse_blob_listing(robotrain::fuzz::as_view(data, size));
    for (const auto& b : page.blobs)
      if (b.name.empty()) __builtin_trap();  // a nameless blob must have been refused
  });
  return 0;
}
