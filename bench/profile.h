#pragma once
// `--profile TRACE.json` of the step benchmarks: LibTorch's (Kineto) CPU profiler around a few
// steps. Writes a Chrome trace (chrome://tracing, ui.perfetto.dev) and returns the operators
// with the most self time (time not spent in a nested operator), per step: the table
// torch.profiler's key_averages() prints for the Python peer, to compare the two op by op.
#include <torch/csrc/autograd/profiler_kineto.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "util/json.h"

namespace robotrain::bench {

template <typename Step>
util::Json profile_steps(Step&& step, int steps, const std::string& trace_path, size_t top = 30) {
  namespace prof = torch::autograd::profiler;
  using torch::profiler::impl::ActivityType;
  const prof::ProfilerConfig config(torch::profiler::impl::ProfilerState::KINETO);
  const std::set<ActivityType> activities{ActivityType::CPU};
  prof::prepareProfiler(config, activities);
  prof::enableProfiler(config, activities);
  for (int i = 0; i < steps; ++i) step();
  auto result = prof::disableProfiler();
  result->save(trace_path);

  // Self time: an event's duration minus that of the events directly nested in it (same thread).
  struct Ev {
    int64_t start, end;
    std::string name;
  };
  std::map<uint64_t, std::vector<Ev>> by_thread;
  for (const auto& e : result->events()) {
    if (e.isPythonFunction() || e.durationNs() <= 0) continue;
    by_thread[e.startThreadId()].push_back({static_cast<int64_t>(e.startNs()), static_cast<int64_t>(e.endNs()), e.name()});
  }
  std::map<std::string, std::pair<double, int64_t>> self;  // name -> (ns, calls)
  for (auto& [tid, evs] : by_thread) {
    std::sort(evs.begin(), evs.end(), [](const Ev& a, const Ev& b) { return a.start < b.start || (a.start == b.start && a.end > b.end); });
    std::vector<std::pair<const Ev*, int64_t>> stack;  // event, nested time
    auto close = [&] {
      auto [ev, nested] = stack.back();
      stack.pop_back();
      auto& s = self[ev->name];
      s.first += static_cast<double>(ev->end - ev->start - nested);
      s.second += 1;
      if (!stack.empty()) stack.back().second += ev->end - ev->start;
    };
    for (const auto& ev : evs) {
      while (!stack.empty() && stack.back().first->end <= ev.start) close();
      stack.push_back({&ev, 0});
    }
    while (!stack.empty()) close();
  }
  std::vector<std::pair<std::string, std::pair<double, int64_t>>> rows(self.begin(), self.end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.first > b.second.first; });
  util::Json table = util::Json::array();
  for (size_t i = 0; i < rows.size() && i < top; ++i)
    table.push_back({{"op", rows[i].first},
                     {"self_ms_per_step", rows[i].second.first / 1e6 / steps},
                     {"calls_per_step", static_cast<double>(rows[i].second.second) / steps}});
  return util::Json{{"trace", trace_path}, {"steps", steps}, {"top_self_time", table}};
}

}  // namespace robotrain::bench
