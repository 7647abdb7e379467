// Open decoders kept per file and handed to loader threads, preferring one positioned just
// before the wanted time (it can decode forward without seeking).
#include <map>
#include <mutex>

#include "dataset/video/video.h"

namespace robotrain::dataset::video {

struct DecoderPool::Impl {
  DecoderOptions options;
  size_t max_idle;
  std::mutex mu;
  std::map<std::string, std::vector<std::unique_ptr<Decoder>>> idle;
};

DecoderPool::DecoderPool(DecoderOptions options, int max_idle_per_file) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  impl_->max_idle = static_cast<size_t>(std::max(1, max_idle_per_file));
}

DecoderPool::~DecoderPool() = default;

DecoderPool::Lease::Lease(DecoderPool* pool, std::unique_ptr<Decoder> d) : pool_(pool), decoder_(std::move(d)) {}
DecoderPool::Lease::Lease(Lease&& o) noexcept : pool_(o.pool_), decoder_(std::move(o.decoder_)) {}
DecoderPool::Lease::~Lease() {
  if (decoder_ && pool_) pool_->release(std::move(decoder_));
}

DecoderPool::Lease DecoderPool::acquire(const std::filesystem::path& path, double hint) {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    auto it = impl_->idle.find(path.string());
    if (it != impl_->idle.end() && !it->second.empty()) {
      auto& v = it->second;
      size_t best = v.size() - 1;
      double best_gap = 1e300;
      for (size_t i = 0; i < v.size(); ++i) {
        double pos = v[i]->position_s();
        double gap = pos >= 0 && pos <= hint ? hint - pos : 1e200;
        if (gap < best_gap) best_gap = gap, best = i;
      }
      auto d = std::move(v[best]);
      v.erase(v.begin() + static_cast<std::ptrdiff_t>(best));
      return Lease(this, std::move(d));
    }
  }
  return Lease(this, std::make_unique<Decoder>(path, impl_->options));
}

void DecoderPool::release(std::unique_ptr<Decoder> d) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto& v = impl_->idle[d->path().string()];
  if (v.size() >= impl_->max_idle) v.erase(v.begin());
  v.push_back(std::move(d));
}

}  // namespace robotrain::dataset::video
