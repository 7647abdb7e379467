#pragma once
// MLflow's limits on keys and values (mlflow/utils/validation.py), enforced before anything
// is written or sent so a bad key fails at the call site instead of poisoning a batch.
#include <cstddef>
#include <string>

namespace robotrain::track {

inline constexpr size_t kMaxKeyLength = 250;
inline constexpr size_t kMaxParamValueLength = 6000;
inline constexpr size_t kMaxTagValueLength = 8000;
inline constexpr size_t kMaxMetricsPerBatch = 1000;
inline constexpr size_t kMaxParamsPerBatch = 100;
inline constexpr size_t kMaxTagsPerBatch = 100;
inline constexpr size_t kMaxEntitiesPerBatch = 1000;

// Keys: 1..250 chars of [A-Za-z0-9_-. /:], no "..", no leading "/", no "//" (they become
// file paths in the file store). `kind` is "metric", "param" or "tag" for the message.
// Throws util::InputError.
void validate_key(const std::string& kind, const std::string& key);
// Values longer than MLflow accepts are cut with a marker rather than rejected: losing the
// tail of a long tag is better than losing the run's tracking.
std::string clamp_value(const std::string& value, size_t limit);

// Python's repr(float), which MLflow writes into metric files ("1.0", "1e-05", "nan").
std::string python_float_repr(double value);

}  // namespace robotrain::track
