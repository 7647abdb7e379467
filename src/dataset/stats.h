#pragma once
// Feature statistics as LeRobot computes them (compute_stats.py): min, max, mean, std, count
// and histogram quantiles q01..q99 per dimension; cameras per channel in [0,1] with shape
// (3,1,1) from a sample of frames; aggregation across episodes weighted by count.
#include <cstdint>
#include <string>
#include <vector>

#include "dataset/lerobot_dataset.h"
#include "util/json.h"

namespace robotrain::dataset {

// LeRobot's heuristics for how many frames of an episode feed the camera stats.
int64_t estimate_num_samples(int64_t dataset_len, int64_t min_num_samples = 100, int64_t max_num_samples = 10000,
                             double power = 0.75);
std::vector<int64_t> sample_indices(int64_t data_len);
// Downsampling stride LeRobot applies before camera stats (1 when max(H, W) < 300).
int downsample_factor(int height, int width);

// `rows` x `dim` values, row-major. `scalar` marks a (1,)-shaped scalar column (stats keep
// shape (1,)); otherwise stats have shape (dim,).
FeatureStats compute_vector_stats(const std::vector<double>& values, int64_t rows, int64_t dim);
// Per-channel stats over uint8 pixels of `count` images (CHW, already sampled/downsampled),
// scaled to [0,1], shape (C,1,1), count = number of images.
FeatureStats compute_image_stats(const std::vector<uint8_t>& chw_images, int64_t count, int channels, int64_t pixels_per_image);

FeatureStats aggregate_feature_stats(const std::vector<FeatureStats>& parts);
DatasetStats aggregate_stats(const std::vector<DatasetStats>& parts);

// {feature: {stat: nested list}} (stats.json / episodes_stats.jsonl "stats").
util::Json stats_to_json(const DatasetStats& stats);
// InputError naming `where` for anything but an object of objects of numbers or rectangular
// nested lists of numbers (null reads as NaN).
DatasetStats stats_from_json(const util::Json& j, const std::string& where = "stats");

}  // namespace robotrain::dataset
