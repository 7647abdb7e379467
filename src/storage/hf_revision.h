#pragma once
// LeRobot's choice of dataset revision (datasets/utils.py get_safe_version): refs whose
// names parse as versions ("v3.0", "v2.1", "3.0.1"), then the exact target, else the highest
// ref with the same major and minor <= target's, else a compatibility error.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace robotrain::storage {

// The codebase version robotrain reads natively and asks for by default.
inline constexpr const char* kCodebaseVersion = "v3.0";

// A release version as packaging.version orders them: numeric segments, trailing zeros
// insignificant ("v3.0" == "3.0.0"). Pre/post/dev suffixes are not versions here.
struct RefVersion {
  std::vector<long> release;
  int major() const { return release.empty() ? 0 : static_cast<int>(release[0]); }
  int minor() const { return release.size() < 2 ? 0 : static_cast<int>(release[1]); }
  int compare(const RefVersion& other) const;  // <0, 0, >0
};

std::optional<RefVersion> parse_ref_version(std::string_view name);

// Returns the ref name (branch or tag) to download. InputError naming the refs found when
// none is compatible (none versioned, only older majors, only newer ones).
std::string choose_codebase_revision(const std::string& repo_id, const std::vector<std::string>& ref_names,
                                     const std::string& target = kCodebaseVersion);

}  // namespace robotrain::storage
