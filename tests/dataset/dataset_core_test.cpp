// Pure pieces: path templates, feature roles, delta-index rule, stats.
#include <gtest/gtest.h>

#include "dataset/info.h"
#include "dataset/sampling.h"
#include "dataset/stats.h"
#include "util/error.h"

using namespace robotrain;
using namespace robotrain::dataset;

TEST(PathTemplate, FormatsLeRobotTemplates) {
  EXPECT_EQ(format_path_template("data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet",
                                 {{"chunk_index", int64_t{2}}, {"file_index", int64_t{17}}}),
            "data/chunk-002/file-017.parquet");
  EXPECT_EQ(format_path_template("videos/chunk-{episode_chunk:03d}/{video_key}/episode_{episode_index:06d}.mp4",
                                 {{"episode_chunk", int64_t{0}}, {"video_key", std::string("observation.images.top")},
                                  {"episode_index", int64_t{42}}}),
            "videos/chunk-000/observation.images.top/episode_000042.mp4");
  EXPECT_EQ(format_path_template("x{a}y{{z}}", {{"a", int64_t{1234}}}), "x1234y{z}");
  EXPECT_THROW(format_path_template("x{missing}", {}), util::InputError);
}

TEST(Features, QuirksAndRoles) {
  util::Json j = util::Json::parse(R"({
    "state": {"dtype": "float32", "shape": [4], "names": {"motors": ["a","b","c","d"]}},
    "actions": {"dtype": "float32", "shape": [4], "names": [["a","b","c","d"]]},
    "image": {"dtype": "image", "shape": [96, 128, 3], "names": ["height","width","channel"]},
    "observation.images.top": {"dtype": "video", "shape": [3, 48, 64], "names": ["channels","height","width"],
                               "info": {"video.codec": "h264"}},
    "observation.environment_state": {"dtype": "float32", "shape": [2], "names": null},
    "timestamp": {"dtype": "float32", "shape": [1], "names": null}
  })");
  std::vector<std::string> warnings;
  auto fs = parse_features(j, warnings);
  ASSERT_EQ(fs.size(), 6u);
  EXPECT_EQ(feature_role(fs[0]), FeatureRole::State);
  EXPECT_EQ(feature_role(fs[1]), FeatureRole::Action);
  EXPECT_EQ(feature_role(fs[2]), FeatureRole::Visual);
  EXPECT_EQ(feature_role(fs[4]), FeatureRole::Env);
  EXPECT_EQ(feature_role(fs[5]), FeatureRole::Other);
  EXPECT_EQ(camera_chw(fs[2]), (std::vector<int64_t>{3, 96, 128}));
  EXPECT_EQ(camera_chw(fs[3]), (std::vector<int64_t>{3, 48, 64}));
  EXPECT_EQ(feature_codec(fs[3]), "h264");
  EXPECT_EQ(flat_names(fs[0]), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(flat_names(fs[1]), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_TRUE(flat_names(fs[4]).empty());
  // dict names, nested names and the unprefixed "state" are each reported.
  EXPECT_GE(warnings.size(), 3u);
}

TEST(DeltaQuery, ClampsToEpisodeAndMarksPadding) {
  // Episode [10, 15): anchor 11 with offsets -2..2 and 5.
  auto q = delta_query(11, 10, 15, {-2, -1, 0, 1, 2, 5});
  EXPECT_EQ(q.indices, (std::vector<int64_t>{10, 10, 11, 12, 13, 14}));
  EXPECT_EQ(q.is_pad, (std::vector<uint8_t>{1, 0, 0, 0, 0, 1}));
  auto last = delta_query(14, 10, 15, {0, 1});
  EXPECT_EQ(last.indices, (std::vector<int64_t>{14, 14}));
  EXPECT_EQ(last.is_pad, (std::vector<uint8_t>{0, 1}));
}

TEST(DeltaQuery, SecondsToIndices) {
  EXPECT_EQ(delta_indices_from_seconds({-0.1, 0.0, 0.1, 0.2}, 10), (std::vector<int>{-1, 0, 1, 2}));
  EXPECT_THROW(delta_indices_from_seconds({0.05}, 10), util::InputError);
}

TEST(Stats, SampleIndicesMatchLeRobotHeuristic) {
  EXPECT_EQ(estimate_num_samples(60), 60);
  EXPECT_EQ(estimate_num_samples(500), 105);  // int(500 ** 0.75) = 105
  EXPECT_EQ(estimate_num_samples(1000), 177);
  EXPECT_EQ(estimate_num_samples(20000), 1681);
  auto idx = sample_indices(1000);
  ASSERT_EQ(idx.size(), 177u);
  EXPECT_EQ(idx.front(), 0);
  EXPECT_EQ(idx.back(), 999);
  EXPECT_EQ(downsample_factor(96, 96), 1);
  EXPECT_EQ(downsample_factor(480, 640), 4);
}

TEST(Stats, VectorStatsAndQuantiles) {
  // Column 0: 0..999; column 1: constant 5.
  std::vector<double> v;
  for (int i = 0; i < 1000; ++i) {
    v.push_back(i);
    v.push_back(5);
  }
  auto s = compute_vector_stats(v, 1000, 2);
  EXPECT_DOUBLE_EQ(s.values["min"][0], 0);
  EXPECT_DOUBLE_EQ(s.values["max"][0], 999);
  EXPECT_NEAR(s.values["mean"][0], 499.5, 1e-9);
  EXPECT_NEAR(s.values["std"][0], std::sqrt((1000.0 * 1000.0 - 1) / 12.0), 1e-6);
  EXPECT_NEAR(s.values["q50"][0], 500, 1.0);
  EXPECT_NEAR(s.values["q01"][0], 10, 1.0);
  EXPECT_NEAR(s.values["q99"][0], 990, 1.0);
  EXPECT_NEAR(s.values["q50"][1], 5, 1e-6);
  EXPECT_DOUBLE_EQ(s.values["std"][1], 0);
  EXPECT_EQ(s.values["count"], std::vector<double>{1000});
  EXPECT_EQ(s.shapes["mean"], std::vector<int64_t>{2});
}

TEST(Stats, ImageStatsPerChannelInUnitRange) {
  // Two 2x2 images, channel c constant = 51 * (c + 1).
  std::vector<uint8_t> px;
  for (int i = 0; i < 2; ++i)
    for (int c = 0; c < 3; ++c)
      for (int p = 0; p < 4; ++p) px.push_back(static_cast<uint8_t>(51 * (c + 1)));
  auto s = compute_image_stats(px, 2, 3, 4);
  EXPECT_EQ(s.shapes["mean"], (std::vector<int64_t>{3, 1, 1}));
  EXPECT_NEAR(s.values["mean"][0], 0.2, 1e-9);
  EXPECT_NEAR(s.values["mean"][2], 0.6, 1e-9);
  EXPECT_NEAR(s.values["max"][1], 0.4, 1e-9);
  EXPECT_EQ(s.values["count"], std::vector<double>{2});
}

TEST(Stats, AggregationIsCountWeightedWithParallelVariance) {
  std::vector<double> a = {0, 2}, b = {4, 6, 8, 10};
  auto sa = compute_vector_stats(a, 2, 1), sb = compute_vector_stats(b, 4, 1);
  auto all = compute_vector_stats({0, 2, 4, 6, 8, 10}, 6, 1);
  auto agg = aggregate_feature_stats({sa, sb});
  EXPECT_NEAR(agg.values["mean"][0], all.values["mean"][0], 1e-9);
  EXPECT_NEAR(agg.values["std"][0], all.values["std"][0], 1e-9);
  EXPECT_DOUBLE_EQ(agg.values["min"][0], 0);
  EXPECT_DOUBLE_EQ(agg.values["max"][0], 10);
  EXPECT_DOUBLE_EQ(agg.values["count"][0], 6);
  EXPECT_NEAR(agg.values["q50"][0], (sa.values["q50"][0] * 2 + sb.values["q50"][0] * 4) / 6, 1e-9);
}

TEST(Stats, JsonRoundTripKeepsShapes) {
  std::vector<uint8_t> px(2 * 3 * 4, 100);
  DatasetStats st;
  st["cam"] = compute_image_stats(px, 2, 3, 4);
  st["state"] = compute_vector_stats({1, 2, 3, 4}, 2, 2);
  auto j = stats_to_json(st);
  EXPECT_TRUE(j["cam"]["mean"][0].is_array());
  EXPECT_TRUE(j["cam"]["mean"][0][0].is_array());
  EXPECT_TRUE(j["cam"]["count"][0].is_number_integer());
  auto back = stats_from_json(j);
  EXPECT_EQ(back["cam"].shapes["mean"], (std::vector<int64_t>{3, 1, 1}));
  EXPECT_EQ(back["state"].values["max"], (std::vector<double>{3, 4}));
}
