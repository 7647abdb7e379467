#pragma once
// LeRobot's normalisation: per feature type a mode (MEAN_STD, MIN_MAX, QUANTILES, QUANTILE10,
// IDENTITY) applied with the dataset statistics, eps 1e-8; the inverse for actions. Saved as LeRobot 0.5's processor
// files (policy_preprocessor.json + normalizer safetensors, policy_postprocessor.json).
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "policy/features.h"
#include "policy/policy.h"

namespace robotrain::policy {

class Normalizer {
 public:
  Normalizer() = default;
  Normalizer(std::vector<PolicyFeature> features, std::vector<std::pair<std::string, std::string>> mapping, StatsTensors stats);

  // InputError naming the feature and stat when a needed statistic is missing.
  void check() const;
  torch::Tensor normalize(const std::string& key, const torch::Tensor& x) const;
  torch::Tensor unnormalize(const std::string& key, const torch::Tensor& x) const;
  // Every feature of this normaliser present in the map; other entries pass through.
  TensorMap normalize(const TensorMap& batch) const;
  TensorMap unnormalize(const TensorMap& batch) const;

  const StatsTensors& stats() const { return stats_; }
  const std::vector<PolicyFeature>& features() const { return features_; }
  const std::vector<std::pair<std::string, std::string>>& mapping() const { return mapping_; }

  // pretrained_model/policy_{pre,post}processor.json and their *_normalizer_processor.safetensors.
  void save(const std::filesystem::path& dir, const std::string& device) const;
  // Stats from a directory written by save() or by LeRobot (flat "<feature>.<stat>" keys).
  static StatsTensors load_stats(const std::filesystem::path& dir);

 private:
  // What a feature is scaled by, on the input's device and dtype: (mean, std) for MEAN_STD;
  // (low, high - low) for the range modes, a zero range replaced by eps.
  struct Scale {
    bool mean_std = false;
    torch::Tensor offset, spread;
  };
  using OneFeature = torch::Tensor (Normalizer::*)(const std::string&, const torch::Tensor&) const;

  std::string mode_for(const std::string& key) const;
  // nullopt for IDENTITY.
  std::optional<Scale> scale_for(const std::string& key, const torch::Tensor& x) const;
  TensorMap each_feature(const TensorMap& batch, OneFeature apply) const;
  bool is_visual(const std::string& key) const;
  std::vector<PolicyFeature> features_;
  std::vector<std::pair<std::string, std::string>> mapping_;
  StatsTensors stats_;
};

}  // namespace robotrain::policy
