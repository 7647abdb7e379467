#pragma once
// --init-from-policy-model: the weights a new run starts from (weights only), named as a
// registered model (models:/NAME/VERSION, azureml:NAME:VERSION, azureml://.../models/...), an
// https blob folder or a local pretrained_model directory, made a local directory for the
// trainer (TrainOptions::init_from_policy_model). Remote sources are downloaded into a scratch
// directory that lives as long as this object.
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "track/model_uri.h"

namespace robotrain::util {
class TempDir;
}

namespace robotrain::train {

class WarmStart {
 public:
  // RuntimeError when the registry, the blob service or the directory does not give a
  // pretrained model; InputError for a version or name that does not exist.
  WarmStart(const track::ModelSource& source, const std::string& tracking_uri);
  ~WarmStart();
  WarmStart(const WarmStart&) = delete;
  WarmStart& operator=(const WarmStart&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  // warm_start.* run tags naming where the weights came from.
  const std::map<std::string, std::string>& tags() const { return tags_; }

 private:
  std::unique_ptr<util::TempDir> scratch_;
  std::filesystem::path dir_;
  std::map<std::string, std::string> tags_;
};

}  // namespace robotrain::train
