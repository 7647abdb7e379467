// Episode-aware seeded sampling and a prefetching loader. Batch k of the stream is fixed by
// (seed, epoch, position) alone - workers only decide *when* it is built, never *what* is in
// it - so results do not depend on the number of threads.
#include "dataset/loader.h"

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "util/error.h"
#include "util/random.h"
#include "util/strings.h"

namespace robotrain::dataset {

using util::cat;

namespace {


// Our own Fisher-Yates over splitmix64 with rejection sampling: std::shuffle and the standard
// distributions differ between library versions, and a resumed run must see the same order.
void seeded_shuffle(std::vector<int64_t>& v, uint64_t seed, uint64_t epoch) {
  uint64_t state = seed * 0x2545F4914F6CDD1Dull ^ (epoch + 1) * 0x9E3779B97F4A7C15ull;
  for (size_t i = v.size(); i > 1; --i) {
    const uint64_t n = i;
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t r;
    do r = util::splitmix64(state);
    while (r >= limit);
    std::swap(v[i - 1], v[r % n]);
  }
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

struct EpisodeAwareSampler::Impl {
  std::vector<int64_t> anchors;
  SamplerOptions o;
  int64_t epoch = 0, pos = 0, size = 0;
  std::vector<int64_t> shard;

  void build() {
    std::vector<int64_t> perm = anchors;
    if (o.shuffle) seeded_shuffle(perm, o.seed, static_cast<uint64_t>(epoch));
    // Every rank gets the same count (DDP steps in lockstep): pad by wrapping, as torch's
    // DistributedSampler does, then take every world_size-th element.
    shard.clear();
    const int64_t n = static_cast<int64_t>(perm.size());
    for (int64_t i = o.rank; i < size * o.world_size; i += o.world_size) shard.push_back(perm[i % n]);
  }
};

EpisodeAwareSampler::EpisodeAwareSampler(const LeRobotDataset& dataset, SamplerOptions options)
    : impl_(std::make_shared<Impl>()) {
  auto& im = *impl_;
  im.o = options;
  if (options.world_size < 1 || options.rank < 0 || options.rank >= options.world_size)
    throw util::InputError(cat("sampler rank ", options.rank, " / world size ", options.world_size, " is invalid"));
  if (options.drop_n_last_frames < 0) throw util::InputError("drop_n_last_frames must be >= 0");
  const auto& meta = dataset.meta();
  std::map<int64_t, const Episode*> by_index;
  for (const auto& e : meta.episodes) by_index[e.index] = &e;
  for (int64_t ep : dataset.episodes_used()) {
    const Episode& e = *by_index.at(ep);
    for (int64_t i = e.from_index; i < e.to_index - options.drop_n_last_frames; ++i) im.anchors.push_back(i);
  }
  if (im.anchors.empty())
    throw util::InputError(cat(meta.root.string(), ": no frames to sample (", dataset.episodes_used().size(),
                               " usable episodes, drop_n_last_frames=", options.drop_n_last_frames, ")"));
  const int64_t n = static_cast<int64_t>(im.anchors.size());
  im.size = (n + options.world_size - 1) / options.world_size;
  im.build();
}

int64_t EpisodeAwareSampler::size() const { return impl_->size; }
int64_t EpisodeAwareSampler::epoch() const { return impl_->epoch; }
int64_t EpisodeAwareSampler::position() const { return impl_->pos; }

int64_t EpisodeAwareSampler::next() {
  auto& im = *impl_;
  if (im.pos >= im.size) seek(im.epoch + 1, 0);
  return im.shard[im.pos++];
}

void EpisodeAwareSampler::seek(int64_t epoch, int64_t position) {
  auto& im = *impl_;
  if (epoch < 0 || position < 0 || position > im.size)
    throw util::InputError(cat("sampler seek to epoch ", epoch, " position ", position, " is out of range (epoch size ", im.size, ")"));
  if (epoch != im.epoch) {
    im.epoch = epoch;
    im.build();
  }
  im.pos = position;
}

struct DataLoader::Impl {
  const LeRobotDataset& ds;
  LoaderOptions lo;
  EpisodeAwareSampler sampler;
  int64_t bpe = 0;

  struct Result {
    Batch batch;
    std::exception_ptr error;
  };
  std::mutex mu;
  std::condition_variable cv_work, cv_done;
  int64_t next_seq = 0, consumed_seq = 0, samples_seen = 0;
  bool stop = false;
  std::map<int64_t, Result> ready;
  std::vector<std::thread> workers;

  Impl(const LeRobotDataset& d, SamplerOptions so, LoaderOptions o) : ds(d), lo(o), sampler(d, so) {}

  // Under `mu`: the sample indices of the next batch, in stream order.
  std::vector<int64_t> take_indices() {
    const int64_t size = sampler.size();
    if (sampler.position() >= size || (lo.drop_last && sampler.position() + lo.batch_size > size))
      sampler.seek(sampler.epoch() + 1, 0);
    const int64_t n = std::min<int64_t>(lo.batch_size, size - sampler.position());
    std::vector<int64_t> idx;
    for (int64_t i = 0; i < n; ++i) idx.push_back(sampler.next());
    return idx;
  }

  // Recycled buffers by byte size (see DataLoader::recycle).
  std::mutex pool_mu;
  std::map<size_t, std::vector<std::vector<uint8_t>>> pool;

  Array make_array(DType dt, std::vector<int64_t> shape) {
    Array a;
    a.dtype = dt;
    a.shape = std::move(shape);
    const size_t n = static_cast<size_t>(a.numel()) * dtype_size(dt);
    {
      std::lock_guard lock(pool_mu);
      auto it = pool.find(n);
      if (it != pool.end() && !it->second.empty()) {
        a.bytes = std::move(it->second.back());  // every byte is overwritten by the samples
        it->second.pop_back();
        return a;
      }
    }
    a.bytes.resize(n);
    return a;
  }

  // Each sample is copied into the batch as soon as it is loaded, so at most one sample is
  // alive next to the batch (frames are megabytes each).
  Batch build(const std::vector<int64_t>& idx) {
    Batch b;
    b.size = static_cast<int64_t>(idx.size());
    std::map<std::string, std::pair<std::vector<int64_t>, DType>> layout;
    for (int64_t k = 0; k < b.size; ++k) {
      Sample s = ds.get(idx[k]);
      if (k == 0) {
        for (auto& [key, a] : s.arrays) {
          std::vector<int64_t> shape = {b.size};
          shape.insert(shape.end(), a.shape.begin(), a.shape.end());
          b.arrays[key] = make_array(a.dtype, std::move(shape));
          layout[key] = {a.shape, a.dtype};
        }
      }
      if (s.arrays.size() != layout.size())
        throw util::RuntimeError(cat("cannot batch frame ", idx[k], ": it has ", s.arrays.size(), " arrays, the first sample ", layout.size()));
      for (auto& [key, a] : s.arrays) {
        auto it = layout.find(key);
        if (it == layout.end() || it->second.first != a.shape || it->second.second != a.dtype)
          throw util::RuntimeError(cat("cannot batch '", key, "' of frame ", idx[k], ": shape or type differs from the first sample"));
        std::memcpy(b.arrays[key].bytes.data() + a.bytes.size() * k, a.bytes.data(), a.bytes.size());
      }
      b.tasks.push_back(std::move(s.task));
    }
    return b;
  }

  void worker() {
    const int64_t capacity = std::max(lo.prefetch_batches, lo.num_workers);
    while (true) {
      int64_t seq;
      std::vector<int64_t> idx;
      {
        std::unique_lock lock(mu);
        cv_work.wait(lock, [&] { return stop || next_seq < consumed_seq + capacity; });
        if (stop) return;
        seq = next_seq++;
        idx = take_indices();
      }
      Result r;
      try {
        r.batch = build(idx);
      } catch (...) {
        r.error = std::current_exception();
      }
      std::lock_guard lock(mu);
      ready[seq] = std::move(r);
      cv_done.notify_all();
    }
  }

  void start() {
    stop = false;
    for (int i = 0; i < lo.num_workers; ++i) workers.emplace_back([this] { worker(); });
  }

  void halt() {
    {
      std::lock_guard lock(mu);
      stop = true;
    }
    cv_work.notify_all();
    for (auto& t : workers) t.join();
    workers.clear();
  }
};

DataLoader::DataLoader(const LeRobotDataset& dataset, SamplerOptions sampler, LoaderOptions options) {
  if (options.batch_size < 1) throw util::InputError("batch size must be >= 1");
  if (options.num_workers < 0) throw util::InputError("num_workers must be >= 0");
  impl_ = std::make_unique<Impl>(dataset, sampler, options);
  const int64_t size = impl_->sampler.size();
  impl_->bpe = options.drop_last ? size / options.batch_size : (size + options.batch_size - 1) / options.batch_size;
  if (impl_->bpe == 0)
    throw util::InputError(cat("batch size ", options.batch_size, " is larger than the ", size,
                               " frames available per epoch; lower --batch-size or set drop_last=false"));
  impl_->start();
}

DataLoader::~DataLoader() {
  if (impl_) impl_->halt();
}

Batch DataLoader::next() {
  auto& im = *impl_;
  const auto t0 = std::chrono::steady_clock::now();
  if (im.lo.num_workers == 0) {
    auto idx = im.take_indices();
    Batch b = im.build(idx);
    b.wait_s = seconds_since(t0);
    im.samples_seen += b.size;
    return b;
  }
  Impl::Result r;
  {
    std::unique_lock lock(im.mu);
    im.cv_done.wait(lock, [&] { return im.ready.count(im.consumed_seq) > 0; });
    auto node = im.ready.extract(im.consumed_seq);
    r = std::move(node.mapped());
    ++im.consumed_seq;
  }
  im.cv_work.notify_all();
  if (r.error) std::rethrow_exception(r.error);
  r.batch.wait_s = seconds_since(t0);
  im.samples_seen += r.batch.size;
  return std::move(r.batch);
}

void DataLoader::recycle(Batch&& batch) {
  auto& im = *impl_;
  std::lock_guard lock(im.pool_mu);
  for (auto& [key, a] : batch.arrays) {
    auto& slot = im.pool[a.bytes.size()];
    // Enough for the batches in flight; more would only hold memory.
    if (slot.size() < static_cast<size_t>(im.lo.prefetch_batches + im.lo.num_workers + 2)) slot.push_back(std::move(a.bytes));
  }
  batch.arrays.clear();
}

int64_t DataLoader::batches_per_epoch() const { return impl_->bpe; }
int64_t DataLoader::samples_seen() const { return impl_->samples_seen; }

void DataLoader::seek(int64_t samples_consumed) {
  auto& im = *impl_;
  if (samples_consumed < 0) throw util::InputError("cannot seek the loader to a negative sample count");
  im.halt();
  const int64_t per_epoch = im.lo.drop_last ? im.bpe * im.lo.batch_size : im.sampler.size();
  im.sampler.seek(samples_consumed / per_epoch, samples_consumed % per_epoch);
  im.ready.clear();
  im.next_seq = im.consumed_seq = 0;
  im.samples_seen = samples_consumed;
  im.start();
}

}  // namespace robotrain::dataset
