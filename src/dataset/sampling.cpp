#include "dataset/sampling.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"
#include "util/strings.h"

namespace robotrain::dataset {

DeltaQuery delta_query(int64_t anchor, int64_t ep_start, int64_t ep_end, const std::vector<int>& deltas) {
  DeltaQuery q;
  q.indices.reserve(deltas.size());
  q.is_pad.reserve(deltas.size());
  for (int d : deltas) {
    const int64_t want = anchor + d;
    q.indices.push_back(std::max(ep_start, std::min(ep_end - 1, want)));
    q.is_pad.push_back(want < ep_start || want >= ep_end ? 1 : 0);
  }
  return q;
}

std::vector<int> delta_indices_from_seconds(const std::vector<double>& seconds, int fps, double tolerance_s) {
  std::vector<int> out;
  for (double s : seconds) {
    const double frames = s * fps;
    if (std::abs(frames - std::round(frames)) / fps > tolerance_s)
      throw util::InputError(util::cat("delta timestamp ", s, " s is not a multiple of 1/", fps,
                                       " s (within ", tolerance_s, " s); use multiples of the frame period"));
    out.push_back(static_cast<int>(std::lround(frames)));
  }
  return out;
}

}  // namespace robotrain::dataset
