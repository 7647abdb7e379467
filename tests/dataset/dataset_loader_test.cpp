// Sampler determinism, sharding, drop_n_last_frames, resume; loader determinism across
// thread counts.
#include <gtest/gtest.h>

#include <set>

#include "dataset/loader.h"
#include "dataset_fixtures.h"
#include "util/error.h"

using namespace robotrain;
using namespace robotrain::dataset;

namespace {

std::vector<int64_t> draw(EpisodeAwareSampler& s, int n) {
  std::vector<int64_t> v;
  for (int i = 0; i < n; ++i) v.push_back(s.next());
  return v;
}

struct Fixture {
  util::TempDir tmp;
  Fixture() { test::write_v21_fixture(tmp.path(), {.lengths = {12, 9, 15, 10}}); }
};

}  // namespace

TEST(Sampler, SeededPermutationPerEpoch) {
  Fixture fx;
  LeRobotDataset ds(fx.tmp.path());
  EpisodeAwareSampler a(ds, {.seed = 7}), b(ds, {.seed = 7}), c(ds, {.seed = 8});
  ASSERT_EQ(a.size(), 46);
  auto ea = draw(a, 46), eb = draw(b, 46), ec = draw(c, 46);
  EXPECT_EQ(ea, eb);
  EXPECT_NE(ea, ec);
  EXPECT_EQ(std::set<int64_t>(ea.begin(), ea.end()).size(), 46u);  // a permutation
  auto e2 = draw(a, 46);
  EXPECT_EQ(a.epoch(), 1);
  EXPECT_NE(ea, e2);  // a new order each epoch
  EXPECT_EQ(std::set<int64_t>(e2.begin(), e2.end()), std::set<int64_t>(ea.begin(), ea.end()));
}

TEST(Sampler, NoShuffleIsInOrder) {
  Fixture fx;
  LeRobotDataset ds(fx.tmp.path());
  EpisodeAwareSampler s(ds, {.shuffle = false});
  auto v = draw(s, 5);
  EXPECT_EQ(v, (std::vector<int64_t>{0, 1, 2, 3, 4}));
}

TEST(Sampler, DropsLastFramesOfEachEpisode) {
  Fixture fx;
  LeRobotDataset ds(fx.tmp.path());
  EpisodeAwareSampler s(ds, {.drop_n_last_frames = 7});
  EXPECT_EQ(s.size(), 46 - 4 * 7);
  auto v = draw(s, static_cast<int>(s.size()));
  std::set<int64_t> got(v.begin(), v.end());
  std::set<int64_t> want;
  int64_t from = 0;
  for (int64_t len : {12, 9, 15, 10}) {
    for (int64_t i = from; i < from + len - 7; ++i) want.insert(i);
    from += len;
  }
  EXPECT_EQ(got, want);
}

TEST(Sampler, RanksGetDisjointEqualShards) {
  Fixture fx;
  LeRobotDataset ds(fx.tmp.path());
  std::multiset<int64_t> all;
  for (int r = 0; r < 4; ++r) {
    EpisodeAwareSampler s(ds, {.seed = 3, .rank = r, .world_size = 4});
    EXPECT_EQ(s.size(), 12);  // ceil(46 / 4)
    auto v = draw(s, 12);
    all.insert(v.begin(), v.end());
  }
  EXPECT_EQ(all.size(), 48u);
  EXPECT_EQ(std::set<int64_t>(all.begin(), all.end()).size(), 46u);  // 2 padded repeats only
  EXPECT_THROW(EpisodeAwareSampler(ds, {.rank = 4, .world_size = 4}), util::InputError);
}

TEST(Sampler, SeekResumesExactly) {
  Fixture fx;
  LeRobotDataset ds(fx.tmp.path());
  EpisodeAwareSampler a(ds, {.seed = 11});
  draw(a, 60);  // into epoch 1
  auto tail = draw(a, 50);
  EpisodeAwareSampler b(ds, {.seed = 11});
  b.seek(1, 14);
  EXPECT_EQ(draw(b, 50), tail);
}

TEST(Loader, BatchesAreDeterministicAcrossThreadCounts) {
  Fixture fx;
  DatasetOptions opt;
  opt.delta_indices["action"] = {0, 1, 2, 3};
  LeRobotDataset ds(fx.tmp.path(), opt);
  auto run = [&](int workers) {
    DataLoader dl(ds, {.seed = 5}, {.batch_size = 4, .num_workers = workers, .prefetch_batches = 2});
    std::vector<std::vector<int64_t>> idx;
    std::vector<std::vector<float>> act;
    for (int s = 0; s < 30; ++s) {  // > 2 epochs of 11 batches
      Batch b = dl.next();
      EXPECT_EQ(b.size, 4);
      EXPECT_EQ(b.arrays.at("action").shape, (std::vector<int64_t>{4, 4, 2}));
      EXPECT_EQ(b.arrays.at("action_is_pad").shape, (std::vector<int64_t>{4, 4}));
      EXPECT_EQ(b.tasks.size(), 4u);
      EXPECT_GE(b.wait_s, 0.0);
      const Array& ix = b.arrays.at("index");
      idx.emplace_back(ix.data<int64_t>(), ix.data<int64_t>() + 4);
      const Array& a = b.arrays.at("action");
      act.emplace_back(a.data<float>(), a.data<float>() + a.numel());
    }
    EXPECT_EQ(dl.samples_seen(), 120);
    return std::make_pair(idx, act);
  };
  auto r0 = run(0), r1 = run(1), r3 = run(3);
  EXPECT_EQ(r0, r1);
  EXPECT_EQ(r0, r3);
  // The stream is the sampler's: batch k = positions 4k..4k+3 of its epoch; 46 % 4 dropped.
  EpisodeAwareSampler s(ds, {.seed = 5});
  auto e0 = draw(s, 46);
  EXPECT_EQ(r0.first[0], std::vector<int64_t>(e0.begin(), e0.begin() + 4));
  EXPECT_EQ(r0.first[10], std::vector<int64_t>(e0.begin() + 40, e0.begin() + 44));
  auto e1 = draw(s, 46);
  EXPECT_EQ(r0.first[11], std::vector<int64_t>(e1.begin(), e1.begin() + 4));
}

TEST(Loader, SeekContinuesTheSameStream) {
  Fixture fx;
  LeRobotDataset ds(fx.tmp.path());
  DataLoader a(ds, {.seed = 9}, {.batch_size = 4, .num_workers = 2});
  std::vector<std::vector<int64_t>> ref;
  for (int s = 0; s < 20; ++s) {
    Batch b = a.next();
    ref.emplace_back(b.arrays.at("index").data<int64_t>(), b.arrays.at("index").data<int64_t>() + 4);
  }
  DataLoader b(ds, {.seed = 9}, {.batch_size = 4, .num_workers = 3});
  b.next();
  b.seek(13 * 4);
  EXPECT_EQ(b.samples_seen(), 52);
  for (int s = 13; s < 20; ++s) {
    Batch x = b.next();
    EXPECT_EQ(std::vector<int64_t>(x.arrays.at("index").data<int64_t>(), x.arrays.at("index").data<int64_t>() + 4), ref[s]);
  }
}

TEST(Loader, ErrorsSurfaceFromWorkers) {
  Fixture fx;
  LeRobotDataset ds(fx.tmp.path());
  // Corrupt a data file after opening: the worker's read fails, next() rethrows.
  util::atomic_write_file(fx.tmp.path() / "data/chunk-000/episode_000002.parquet", "garbage");
  DataLoader dl(ds, {.shuffle = false}, {.batch_size = 8, .num_workers = 2});
  bool threw = false;
  try {
    for (int i = 0; i < 6; ++i) dl.next();
  } catch (const std::exception&) {
    threw = true;
  }
  EXPECT_TRUE(threw);
}

TEST(Loader, BatchLargerThanEpochIsInputError) {
  Fixture fx;
  LeRobotDataset ds(fx.tmp.path());
  EXPECT_THROW(DataLoader(ds, {}, {.batch_size = 100}), util::InputError);
}

TEST(Loader, RecycledBuffersGiveIdenticalBatches) {
  Fixture fx;
  DatasetOptions opt;
  opt.delta_indices["action"] = {-1, 0, 1};
  LeRobotDataset ds(fx.tmp.path(), opt);
  DataLoader plain(ds, {.seed = 2}, {.batch_size = 4, .num_workers = 2});
  DataLoader recycled(ds, {.seed = 2}, {.batch_size = 4, .num_workers = 2});
  for (int s = 0; s < 25; ++s) {
    Batch a = plain.next(), b = recycled.next();
    ASSERT_EQ(a.arrays.size(), b.arrays.size());
    for (const auto& [key, arr] : a.arrays) {
      EXPECT_EQ(arr.shape, b.arrays.at(key).shape) << key;
      EXPECT_EQ(arr.bytes, b.arrays.at(key).bytes) << key << " step " << s;
    }
    // Poison the buffers before handing them back: stale bytes must never leak into a batch.
    for (auto& [key, arr] : b.arrays) std::fill(arr.bytes.begin(), arr.bytes.end(), 0xAB);
    recycled.recycle(std::move(b));
  }
}
