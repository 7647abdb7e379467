// The only translation unit that builds c10d process groups (c10d's headers are heavy).
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1  // the wheel's libtorch_cpu is built with Gloo; the header is guarded by this
#endif
#include "train/distributed.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <map>
#include <mutex>

#include "train/c10d_nccl.h"
#include "util/error.h"
#include "util/log.h"
#include "util/process.h"
#include "util/strings.h"

namespace robotrain::train {

namespace {

// A failed collective almost always means a peer died or timed out: say so, one line.
void wait_work(const c10::intrusive_ptr<c10d::Work>& work, const char* what) {
  try {
    work->wait();
  } catch (const std::exception& e) {
    std::string msg = e.what();
    msg = msg.substr(0, msg.find('\n'));
    throw util::RuntimeError(util::cat(what, " with the other workers failed (a worker died or stopped answering): ",
                                       msg));
  }
}

bool is_loopback(const std::string& host) { return util::starts_with(host, "127.") || host == "localhost"; }

}  // namespace

struct DistContext::Impl {
  DistEnv env;
  c10::intrusive_ptr<c10d::Store> store;
  // torch 2.x: Gloo and NCCL are c10d::Backend implementations; robotrain drives the backend
  // directly (one device type per job), without a ProcessGroup dispatcher around it.
  c10::intrusive_ptr<c10d::Backend> pg;
  std::string backend;
};

DistContext::DistContext(const DistEnv& env, const torch::Device& device, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
  auto& im = *impl_;
  im.env = env;
  try {
    c10d::TCPStoreOptions so;
    so.port = static_cast<uint16_t>(env.master_port);
    so.isServer = env.rank == 0;
    so.numWorkers = static_cast<size_t>(env.world_size);
    so.waitWorkers = true;
    so.timeout = timeout;
    im.store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, so);
  } catch (const std::exception& e) {
    std::string msg = e.what();
    throw util::RuntimeError(util::cat("rank ", env.rank, ": rendezvous at ", env.master_addr, ":", env.master_port,
                                       " failed (", msg.substr(0, msg.find('\n')), "); check MASTER_ADDR/MASTER_PORT and ",
                                       "that all ", env.world_size, " workers started"));
  }
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>("robotrain/default_pg", im.store);
  if (device.is_cuda()) {
#if defined(ROBOTRAIN_WITH_NCCL)
    auto opts = c10d::ProcessGroupNCCL::Options::create();
    opts->timeout = timeout;
    im.pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(prefixed, env.rank, env.world_size, opts);
    im.backend = "nccl";
#else
    throw util::InputError("distributed training on CUDA needs NCCL, which this build lacks; train with "
                           "--policy.device cpu (Gloo) or rebuild with ROBOTRAIN_WITH_NCCL");
#endif
  } else {
    auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
    if (auto ifname = util::get_env("GLOO_SOCKET_IFNAME"); ifname && !ifname->empty())
      opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(*ifname));
    else if (is_loopback(env.master_addr))
      opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    else
      opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    opts->threads = 2;
    try {
      im.pg = c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, env.rank, env.world_size, opts);
    } catch (const std::exception& e) {
      std::string msg = e.what();
      throw util::RuntimeError(util::cat("rank ", env.rank, ": connecting the Gloo process group failed (",
                                         msg.substr(0, msg.find('\n')), ")"));
    }
    im.backend = "gloo";
  }
}

DistContext::~DistContext() = default;

int DistContext::rank() const { return impl_->env.rank; }
int DistContext::world_size() const { return impl_->env.world_size; }
const char* DistContext::backend() const { return impl_->backend.c_str(); }

void DistContext::broadcast(const std::vector<torch::Tensor>& tensors) {
  torch::NoGradGuard no_grad;
  std::map<c10::ScalarType, std::vector<torch::Tensor>> by_dtype;
  for (const auto& t : tensors)
    if (t.defined() && t.numel() > 0) by_dtype[t.scalar_type()].push_back(t);
  for (auto& [dtype, group] : by_dtype) {
    std::vector<torch::Tensor> flat_parts;
    for (auto& t : group) flat_parts.push_back(t.reshape(-1));
    torch::Tensor flat = torch::cat(flat_parts);
    if (dtype == torch::kBool) flat = flat.to(torch::kUInt8);
    std::vector<at::Tensor> v{flat};
    wait_work(impl_->pg->broadcast(v), "broadcasting the initial weights");
    int64_t off = 0;
    for (auto& t : group) {
      t.copy_(flat.narrow(0, off, t.numel()).view(t.sizes()).to(dtype));
      off += t.numel();
    }
  }
}

void DistContext::all_reduce_sum(torch::Tensor& tensor) {
  std::vector<at::Tensor> v{tensor};
  wait_work(impl_->pg->allreduce(v), "all-reduce");
}

// ---------------------------------------------------------------------------------------

struct GradReducer::Impl {
  struct Slot {
    torch::Tensor param;
    size_t bucket = 0;
    int64_t offset = 0, numel = 0;
    bool filled = false;
    unsigned hook = 0;
  };
  struct Bucket {
    torch::Tensor flat;
    std::vector<size_t> slots;
    int64_t numel = 0;
    size_t pending = 0;
    bool launched = false;
    c10::intrusive_ptr<c10d::Work> work;
  };
  DistContext& ctx;
  c10d::Backend* pg;
  std::vector<Slot> slots;
  std::vector<Bucket> buckets;
  size_t next_launch = 0;
  bool armed = false;
  std::mutex mu;

  explicit Impl(DistContext& c) : ctx(c), pg(c.impl().pg.get()) {}

  // Buckets go out strictly in index order on every rank: Gloo and NCCL match collectives
  // by the order they were issued, not by name.
  void launch_ready() {
    while (next_launch < buckets.size() && buckets[next_launch].pending == 0) {
      Bucket& b = buckets[next_launch++];
      std::vector<at::Tensor> v{b.flat};
      b.work = pg->allreduce(v);
      b.launched = true;
    }
  }

  void on_grad(size_t i, const torch::Tensor& grad) {
    std::lock_guard<std::mutex> lock(mu);
    if (!armed || !grad.defined()) return;
    Slot& s = slots[i];
    Bucket& b = buckets[s.bucket];
    torch::NoGradGuard no_grad;
    auto dst = b.flat.narrow(0, s.offset, s.numel);
    if (s.filled) {
      dst.add_(grad.reshape(-1));  // a second backward through the same graph: accumulate
      return;
    }
    dst.copy_(grad.reshape(-1));
    s.filled = true;
    if (--b.pending == 0) launch_ready();
  }
};

GradReducer::GradReducer(DistContext& ctx, const std::vector<torch::Tensor>& params, size_t bucket_bytes)
    : impl_(std::make_unique<Impl>(ctx)) {
  auto& im = *impl_;
  // Reverse registration order approximates the order the backward pass produces gradients
  // in, so the first bucket fills (and starts its all-reduce) early.
  std::vector<torch::Tensor> ps;
  for (auto it = params.rbegin(); it != params.rend(); ++it)
    if (it->requires_grad()) ps.push_back(*it);
  size_t bytes = 0;
  for (size_t i = 0; i < ps.size(); ++i) {
    const auto& p = ps[i];
    const bool new_bucket = im.buckets.empty() || bytes >= bucket_bytes ||
                            im.buckets.back().flat.scalar_type() != p.scalar_type() ||
                            im.buckets.back().flat.device() != p.device();
    if (new_bucket) {
      Impl::Bucket b;
      b.flat = torch::empty({0}, p.options().requires_grad(false));  // dtype and device; sized below
      im.buckets.push_back(std::move(b));
      bytes = 0;
    }
    Impl::Bucket& b = im.buckets.back();
    Impl::Slot s;
    s.param = p;
    s.bucket = im.buckets.size() - 1;
    s.offset = b.numel;
    s.numel = p.numel();
    b.numel += s.numel;
    b.slots.push_back(i);
    bytes += static_cast<size_t>(p.numel()) * p.element_size();
    im.slots.push_back(s);
  }
  for (auto& b : im.buckets) b.flat = torch::zeros({b.numel}, b.flat.options());
  Impl* raw = impl_.get();
  for (size_t i = 0; i < im.slots.size(); ++i)
    im.slots[i].hook = im.slots[i].param.register_hook([raw, i](torch::Tensor grad) { raw->on_grad(i, grad); });
}

GradReducer::~GradReducer() {
  for (auto& s : impl_->slots) {
    try {
      s.param.remove_hook(s.hook);
    } catch (...) {
    }
  }
}

size_t GradReducer::num_buckets() const { return impl_->buckets.size(); }

void GradReducer::prepare() {
  auto& im = *impl_;
  std::lock_guard<std::mutex> lock(im.mu);
  for (auto& s : im.slots) s.filled = false;
  for (auto& b : im.buckets) {
    b.pending = b.slots.size();
    b.launched = false;
    b.work.reset();
  }
  im.next_launch = 0;
  im.armed = true;
}

std::vector<double> GradReducer::finish(const std::vector<double>& scalars) {
  auto& im = *impl_;
  torch::NoGradGuard no_grad;
  torch::Tensor meta;
  {
    std::lock_guard<std::mutex> lock(im.mu);
    im.armed = false;
    // Parameters without a gradient on this rank contribute zeros.
    for (auto& s : im.slots)
      if (!s.filled) im.buckets[s.bucket].flat.narrow(0, s.offset, s.numel).zero_();
    for (auto& b : im.buckets) b.pending = 0;
    im.launch_ready();
    // One small extra message: the caller's scalars and which parameters had a gradient.
    meta = torch::zeros({static_cast<int64_t>(scalars.size() + im.slots.size())}, torch::kFloat64);
    auto m = meta.accessor<double, 1>();
    for (size_t i = 0; i < scalars.size(); ++i) m[static_cast<int64_t>(i)] = scalars[i];
    for (size_t i = 0; i < im.slots.size(); ++i) m[static_cast<int64_t>(scalars.size() + i)] = im.slots[i].filled ? 1 : 0;
  }
  torch::Tensor meta_dev = meta.to(im.buckets.empty() ? torch::Device(torch::kCPU) : im.buckets[0].flat.device());
  std::vector<at::Tensor> mv{meta_dev};
  auto meta_work = im.pg->allreduce(mv);
  const double inv = 1.0 / im.ctx.world_size();
  for (auto& b : im.buckets) {
    wait_work(b.work, "gradient all-reduce");
    b.flat.mul_(inv);
  }
  wait_work(meta_work, "all-reduce");
  meta = meta_dev.to(torch::kCPU);
  auto m = meta.accessor<double, 1>();
  for (size_t i = 0; i < im.slots.size(); ++i) {
    auto& s = im.slots[i];
    auto& p = s.param;
    if (m[static_cast<int64_t>(scalars.size() + i)] == 0) {
      if (p.grad().defined()) p.mutable_grad().reset();
      continue;
    }
    auto mean = im.buckets[s.bucket].flat.narrow(0, s.offset, s.numel).view(p.sizes());
    if (p.grad().defined()) p.mutable_grad().copy_(mean);
    else p.mutable_grad() = mean.clone();
  }
  std::vector<double> out(scalars.size());
  for (size_t i = 0; i < scalars.size(); ++i) out[i] = m[static_cast<int64_t>(i)];
  return out;
}

}  // namespace robotrain::train
