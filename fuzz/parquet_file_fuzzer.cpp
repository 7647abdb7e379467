// A whole Parquet file through robotrain's Reader: footer, schema, every column chunk, page and
// encoding, the whole file and row group by row group.
#include <cstdint>

#include "dataset/parquet/parquet.h"
#include "fuzz_support.h"
#include "memfile.h"

using namespace robotrain::dataset::parquet;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static robotrain::fuzz::MemFile file;
  const std::string& path = file.write(data, size);
  robotrain::fuzz::guarded(true, [&] {
    Reader r(path);
    Table t = r.read();
    for (int g = 0; g < r.info().num_row_groups && g < 64; ++g) r.read_row_group(g);
  });
  return 0;
}
