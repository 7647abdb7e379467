// Parquet's Thrift footer and page headers, and the schema mapping built on them.
#include <cstdint>
#include <exception>

#include "dataset/parquet/metadata.h"
#include "dataset/parquet/schema.h"
#include "dataset/parquet/thrift.h"
#include "fuzz_support.h"

using namespace robotrain::dataset::parquet;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // ThriftError and the schema's std::runtime_error are these decoders' documented failures
  // (the Reader turns them into one-line errors naming the file).
  try {
    format::FileMetaData m = format::decode_file_metadata(data, size);
    build_leaves(m.schema);
    format::encode_file_metadata(m);  // whatever was decoded can be written back
  } catch (const std::runtime_error&) {
  } catch (const std::exception& e) {
    robotrain::fuzz::finding("an exception other than ThriftError", e);
  }
  try {
    size_t consumed = 0;
    format::PageHeader h = format::decode_page_header(data, size, consumed);
    if (consumed > size) __builtin_trap();
    format::encode_page_header(h);
  } catch (const std::runtime_error&) {
  } catch (const std::exception& e) {
    robotrain::fuzz::finding("an exception other than ThriftError", e);
  }
  return 0;
}
