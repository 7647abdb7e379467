#pragma once
// Values read from a dataset are untrusted: a downloaded or damaged dataset may hold any JSON
// type, any number and any path. These helpers turn them into checked values or an
// InputError (exit 2) naming the file and the field, before anything is sized or opened
// from them.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/json.h"

namespace robotrain::dataset {

// Limits on what metadata may declare. Each is far beyond any real dataset and small enough
// that nothing sized from it can exhaust memory.
inline constexpr int64_t kMaxTemplateWidth = 32;          // "{episode_index:06d}": the 6
inline constexpr size_t kMaxPathLength = 4096;            // PATH_MAX
inline constexpr int64_t kMaxFeatureDim = 1 << 16;        // one shape entry (65536 px, joints, ...)
inline constexpr int64_t kMaxFeatureValues = 1 << 20;     // values per frame of a non-camera feature
inline constexpr int64_t kMaxEpisodeLength = 1ll << 31;   // frames in an episode whose data file is absent
inline constexpr uintmax_t kMaxMetaJsonBytes = 64u << 20;  // info.json, stats.json
inline constexpr size_t kMaxJsonlLineBytes = 16u << 20;    // one line of a meta/*.jsonl file

// A string quoted in a one-line message: control characters escaped (\n, \x1b), cut after
// 200 characters.
std::string shown(std::string_view text);

// `j[key]` as an integer: an integral JSON number (or an integral double such as 30.0) within
// [lo, hi]. nullopt when absent or null; InputError naming `file` and `key` otherwise.
std::optional<int64_t> json_int_field(const util::Json& j, const char* key, int64_t lo, int64_t hi, const std::string& file);
// An integer from a value that came through a double (parquet metadata columns): finite,
// integral and within [lo, hi], or InputError naming `what`.
int64_t checked_int(double v, int64_t lo, int64_t hi, const std::string& what);

// Feature keys become path components (videos/<key>/...) and parquet column names: not
// empty, no '/' or '\\' (LeRobot refuses '/' too), not "." or "..", no control characters.
void check_feature_key(const std::string& key);

// root / relative, where `relative` came from the dataset (a template expansion, an image path
// column): InputError naming `what` unless it is a relative path that stays inside root.
std::filesystem::path path_inside(const std::filesystem::path& root, const std::string& relative, const std::string& what);

// Whether `p` exists; InputError when it is something other than a regular file (a FIFO, a
// socket, a device or a directory would block or fail a reader in unhelpful ways).
bool regular_file_exists(const std::filesystem::path& p);
// The same, InputError when missing too.
void require_regular_file(const std::filesystem::path& p);

// A metadata JSON file (info.json, stats.json): a regular file of at most kMaxMetaJsonBytes,
// parsed; InputError when it is not valid JSON.
util::Json read_meta_json(const std::filesystem::path& p);

// A meta/*.jsonl file: one JSON object per non-blank line, each line at most
// kMaxJsonlLineBytes (a file without newlines cannot become one string of its whole size).
std::vector<util::Json> read_jsonl(const std::filesystem::path& path);

}  // namespace robotrain::dataset
