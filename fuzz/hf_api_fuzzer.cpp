// The Hugging Face Hub's JSON answers (refs, revision info, tree pages) and its headers (ETag,
// Link), as a hostile hub may send them.
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "storage/hf_api.h"

using namespace robotrain::storage;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool strict = robotrain::fuzz::strict_from_env();
  const std::string body(reinterpret_cast<const char*>(data), size);
  robotrain::fuzz::guarded(strict, [&] { parse_refs(body, "dataset fuzz/repo"); });
  robotrain::fuzz::guarded(strict, [&] { parse_revision_sha(body, "dataset fuzz/repo", "main"); });
  robotrain::fuzz::guarded(strict, [&] {
    for (const auto& f : parse_tree_page(body, "dataset fuzz/repo")) f.etag();
  });
  robotrain::fuzz::guarded(strict, [&] {
    normalize_etag(body);
    next_page_link(body);
  });
  return 0;
}
