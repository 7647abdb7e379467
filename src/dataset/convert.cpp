#include "dataset/convert.h"

#include "dataset/merge.h"
#include "util/error.h"
#include "util/strings.h"

namespace robotrain::dataset {

// Conversion is a merge of one source: the same rewrite (data files with many episodes,
// meta/episodes parquet, tasks.parquet, v3.0 info.json) plus the converter's "fps" on
// non-video features. Bool features keep their dtype: conversion changes layout, not data.
void convert_v21_to_v30(const std::filesystem::path& source, const std::filesystem::path& output, bool overwrite) {
  DatasetMeta meta;
  try {
    meta = load_metadata(source);
  } catch (const util::Error& e) {
    // A source that cannot be read is invalid input: exit 2, naming it.
    const std::string what = e.what(), name = std::filesystem::absolute(source).lexically_normal().string();
    throw util::InputError(what.find(name) != std::string::npos ? what : util::cat("source ", name, ": ", what));
  }
  if (!util::starts_with(meta.codebase_version, "v2"))
    throw util::InputError(util::cat(meta.root.string(), " is already ", meta.codebase_version,
                                     "; only v2.x datasets need converting (robotrain reads v3.0 directly)"));
  MergeOptions o;
  o.overwrite = overwrite;
  o.cast_bool_to_float = false;
  o.add_feature_fps = true;
  merge_datasets({source}, output, o);
}

}  // namespace robotrain::dataset
