#include "train/processor_files.h"

#include <torch/torch.h>

#include "train/tensor_file.h"
#include "util/fs.h"

namespace robotrain::train {

using util::Json;

dataset::DatasetStats effective_stats(const dataset::DatasetMeta& meta, bool use_imagenet_stats) {
  dataset::DatasetStats stats = meta.stats;
  if (!use_imagenet_stats) return stats;
  for (const auto& key : meta.camera_keys()) {
    auto& s = stats[key];
    s.values["mean"] = {0.485, 0.456, 0.406};
    s.values["std"] = {0.229, 0.224, 0.225};
    s.shapes["mean"] = s.shapes["std"] = {3, 1, 1};
  }
  return stats;
}

namespace {

std::vector<std::pair<std::string, torch::Tensor>> stat_tensors(const dataset::DatasetStats& stats) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& [key, fs] : stats) {
    for (const auto& [name, values] : fs.values) {
      std::vector<float> v(values.begin(), values.end());
      auto t = torch::tensor(v, torch::kFloat32);
      auto shape = fs.shapes.find(name);
      if (shape != fs.shapes.end() && !shape->second.empty()) {
        int64_t n = 1;
        for (auto d : shape->second) n *= d;
        if (n == t.numel()) t = t.reshape(shape->second);
      }
      out.emplace_back(key + "." + name, t);
    }
  }
  return out;
}

Json features_of(const Json& cfg, const char* which) {
  auto it = cfg.find(which);
  return it != cfg.end() && it->is_object() ? *it : Json::object();
}

}  // namespace

void write_processor_files(const std::filesystem::path& dir, const Json& cfg, const dataset::DatasetMeta& meta,
                           bool use_imagenet_stats) {
  Json inputs = features_of(cfg, "input_features"), outputs = features_of(cfg, "output_features");
  Json all = inputs;
  for (auto& [k, v] : outputs.items()) all[k] = v;
  Json norm_map = cfg.value("normalization_mapping", Json::object());
  const std::string device = cfg.value("device", std::string("cpu"));
  const std::string pre_state = "policy_preprocessor_step_3_normalizer_processor.safetensors";
  const std::string post_state = "policy_postprocessor_step_0_unnormalizer_processor.safetensors";
  Json pre{{"name", "policy_preprocessor"},
           {"steps",
            {{{"registry_name", "rename_observations_processor"}, {"config", {{"rename_map", Json::object()}}}},
             {{"registry_name", "to_batch_processor"}, {"config", Json::object()}},
             {{"registry_name", "device_processor"}, {"config", {{"device", device}, {"float_dtype", nullptr}}}},
             {{"registry_name", "normalizer_processor"},
              {"config", {{"eps", 1e-8}, {"features", all}, {"norm_map", norm_map}}},
              {"state_file", pre_state}}}}};
  Json post{{"name", "policy_postprocessor"},
            {"steps",
             {{{"registry_name", "unnormalizer_processor"},
               {"config", {{"eps", 1e-8}, {"features", outputs}, {"norm_map", norm_map}}},
               {"state_file", post_state}},
              {{"registry_name", "device_processor"}, {"config", {{"device", "cpu"}, {"float_dtype", nullptr}}}}}}};
  util::write_json_file(dir / "policy_preprocessor.json", pre);
  util::write_json_file(dir / "policy_postprocessor.json", post);
  auto tensors = stat_tensors(effective_stats(meta, use_imagenet_stats));
  save_tensor_file(dir / pre_state, tensors);
  save_tensor_file(dir / post_state, tensors);
}

}  // namespace robotrain::train
