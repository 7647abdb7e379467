#pragma once
// Batches from the loader to the training device. On CUDA the copy of batch N+1 runs on a
// side stream while step N computes on the current one: each handed-out batch's copy has been
// queued one step earlier, the compute stream waits on that copy's event (not on the host),
// and the tensors are marked as used by the compute stream so the caching allocator does not
// recycle them while that stream still reads them. On the CPU it is to_device_batch.
#include <torch/torch.h>

#include <memory>

#include "dataset/loader.h"
#include "policy/policy.h"
#include "train/batch.h"

namespace robotrain::train {

class DeviceFeeder {
 public:
  DeviceFeeder(dataset::DataLoader& loader, BatchAdapterOptions options);
  ~DeviceFeeder();
  DeviceFeeder(const DeviceFeeder&) = delete;
  DeviceFeeder& operator=(const DeviceFeeder&) = delete;

  // The next batch, ready for use on the current stream. `augment_seed` is this step's
  // (BatchAdapterOptions::augment_seed); *host_wait_s gets the time spent waiting for the
  // loader and queueing copies.
  policy::TensorMap next(uint64_t augment_seed, double* host_wait_s = nullptr);
  // Batches taken from the loader so far, including one staged ahead on CUDA.
  int64_t batches_taken() const;
  // Samples handed out by next() (the loader's count less a batch staged ahead): what a
  // resumed run must skip.
  int64_t samples_consumed() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace robotrain::train
