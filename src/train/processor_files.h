#pragma once
// LeRobot 0.5's processor pipeline files beside the weights (processor/pipeline.py):
//   policy_preprocessor.json   rename -> to_batch -> device -> normalizer (step 3)
//   policy_preprocessor_step_3_normalizer_processor.safetensors
//   policy_postprocessor.json  unnormalizer (step 0) -> device(cpu)
//   policy_postprocessor_step_0_unnormalizer_processor.safetensors
// The state files hold "<feature>.<stat>" float32 for every stat of every dataset feature;
// with use_imagenet_stats the cameras' mean/std are ImageNet's.
#include <filesystem>

#include "dataset/lerobot_dataset.h"
#include "util/json.h"

namespace robotrain::train {

// `policy_config`: the policy's config.json (input/output features, normalization_mapping, device).
void write_processor_files(const std::filesystem::path& pretrained_dir, const util::Json& policy_config,
                           const dataset::DatasetMeta& meta, bool use_imagenet_stats);

// The dataset stats as LeRobot's processors see them (ImageNet stats for cameras when asked).
dataset::DatasetStats effective_stats(const dataset::DatasetMeta& meta, bool use_imagenet_stats);

}  // namespace robotrain::train
