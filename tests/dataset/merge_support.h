#pragma once
// Checks shared by the merge and convert tests: a merged dataset equals, frame for frame, the
// concatenation of its sources (every feature, decoded video frames, task strings), with the
// index columns renumbered.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "dataset/lerobot_dataset.h"
#include "dataset/validate.h"

namespace robotrain::test {

inline int64_t scalar_i64(const dataset::Array& a) { return a.data<int64_t>()[0]; }

inline std::string violations_text(const dataset::ValidationReport& r) {
  std::string s;
  for (const auto& v : r.violations) s += v.where + ": " + v.what + "\n";
  return s;
}

// `bool_cast`: keys whose source arrays are Bool and merged arrays Float32 (values 0/1).
inline void expect_concatenation(const std::filesystem::path& merged, const std::vector<std::filesystem::path>& sources,
                                 const std::vector<std::string>& bool_cast = {}) {
  dataset::DatasetOptions opt;
  opt.images_as_uint8 = true;
  opt.strict = true;
  dataset::LeRobotDataset out(merged, opt);
  int64_t g = 0, ep_offset = 0;
  for (const auto& src_path : sources) {
    dataset::LeRobotDataset src(src_path, opt);
    for (int64_t i = 0; i < src.num_frames(); ++i, ++g) {
      ASSERT_LT(g, out.num_frames());
      auto a = src.get(i), b = out.get(g);
      SCOPED_TRACE(::testing::Message() << src_path << " frame " << i << " -> merged frame " << g);
      EXPECT_EQ(a.task, b.task);
      ASSERT_EQ(a.arrays.size(), b.arrays.size());
      for (const auto& [k, av] : a.arrays) {
        ASSERT_TRUE(b.arrays.count(k)) << k;
        const auto& bv = b.arrays.at(k);
        EXPECT_EQ(av.shape, bv.shape) << k;
        if (k == "index") {
          EXPECT_EQ(scalar_i64(bv), g);
        } else if (k == "episode_index") {
          EXPECT_EQ(scalar_i64(bv), scalar_i64(av) + ep_offset);
        } else if (k == "task_index") {
          EXPECT_EQ(out.meta().tasks.at(scalar_i64(bv)), src.meta().tasks.at(scalar_i64(av)));
        } else if (std::find(bool_cast.begin(), bool_cast.end(), k) != bool_cast.end()) {
          ASSERT_EQ(av.dtype, dataset::DType::Bool) << k;
          ASSERT_EQ(bv.dtype, dataset::DType::Float32) << k;
          for (int64_t j = 0; j < av.numel(); ++j) EXPECT_EQ(bv.data<float>()[j], av.data<uint8_t>()[j] ? 1.0f : 0.0f) << k;
        } else {
          EXPECT_EQ(av.dtype, bv.dtype) << k;
          EXPECT_TRUE(av.bytes == bv.bytes) << k << " differs";
        }
      }
    }
    ep_offset += src.meta().total_episodes;
  }
  EXPECT_EQ(g, out.num_frames());
  EXPECT_EQ(ep_offset, out.meta().total_episodes);
  auto report = dataset::validate_dataset(dataset::load_metadata(merged));
  EXPECT_TRUE(report.ok()) << violations_text(report);
}

}  // namespace robotrain::test
