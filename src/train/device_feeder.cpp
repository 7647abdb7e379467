#include "train/device_feeder.h"

#include <chrono>
#include <optional>

#if defined(ROBOTRAIN_WITH_CUDA)
#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace robotrain::train {

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
}  // namespace

struct DeviceFeeder::Impl {
  dataset::DataLoader& loader;
  BatchAdapterOptions options;
  int64_t taken = 0;
#if defined(ROBOTRAIN_WITH_CUDA)
  struct Staged {
    policy::TensorMap tensors;
    at::cuda::CUDAEvent copied;
    int64_t samples = 0;
  };
  std::optional<c10::cuda::CUDAStream> copy_stream;
  std::unique_ptr<Staged> staged;

  // Queues the next batch's host-to-device copy on the copy stream.
  void stage() {
    dataset::Batch host = loader.next();
    ++taken;
    auto s = std::make_unique<Staged>();
    s->samples = host.size;
    {
      c10::cuda::CUDAStreamGuard guard(*copy_stream);
      s->tensors = transfer_batch(std::move(host), options.device);
      s->copied.record(*copy_stream);
    }
    staged = std::move(s);
  }

  policy::TensorMap next_cuda() {
    if (!staged) stage();
    auto s = std::move(staged);
    auto compute = c10::cuda::getCurrentCUDAStream(options.device.index());
    s->copied.block(compute);  // the compute stream waits for the copy, the host does not
    for (auto& [key, t] : s->tensors) t.record_stream(compute);
    stage();  // batch N+1's copy overlaps step N
    return std::move(s->tensors);
  }
#endif

  Impl(dataset::DataLoader& l, BatchAdapterOptions o) : loader(l), options(std::move(o)) {
#if defined(ROBOTRAIN_WITH_CUDA)
    if (options.device.is_cuda()) copy_stream = c10::cuda::getStreamFromPool(false, options.device.index());
#endif
  }
};

DeviceFeeder::DeviceFeeder(dataset::DataLoader& loader, BatchAdapterOptions options)
    : impl_(std::make_unique<Impl>(loader, std::move(options))) {}

DeviceFeeder::~DeviceFeeder() = default;

int64_t DeviceFeeder::batches_taken() const { return impl_->taken; }

int64_t DeviceFeeder::samples_consumed() const {
  int64_t ahead = 0;
#if defined(ROBOTRAIN_WITH_CUDA)
  if (impl_->staged) ahead = impl_->staged->samples;
#endif
  return impl_->loader.samples_seen() - ahead;
}

policy::TensorMap DeviceFeeder::next(uint64_t augment_seed, double* host_wait_s) {
  auto& m = *impl_;
  const auto t0 = Clock::now();
  m.options.augment_seed = augment_seed;
  policy::TensorMap batch;
#if defined(ROBOTRAIN_WITH_CUDA)
  if (m.copy_stream) {
    batch = m.next_cuda();
    if (host_wait_s) *host_wait_s = seconds_since(t0);
    prepare_cameras(batch, m.options);  // on the compute stream
    return batch;
  }
#endif
  batch = transfer_batch(m.loader.next(), m.options.device);
  ++m.taken;
  if (host_wait_s) *host_wait_s = seconds_since(t0);
  prepare_cameras(batch, m.options);
  return batch;
}

}  // namespace robotrain::train
