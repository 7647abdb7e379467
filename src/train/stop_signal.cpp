#include "train/stop_signal.h"

#include <atomic>
#include <csignal>

namespace robotrain::train {

namespace {

std::atomic<int> g_requested{0};
struct sigaction g_old_term, g_old_int;

extern "C" void on_stop_signal(int sig) {
  int expected = 0;
  if (!g_requested.compare_exchange_strong(expected, sig) && sig == SIGINT) {
    // Second Ctrl-C: give up on the orderly stop.
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
  }
}

}  // namespace

StopSignals::StopSignals() {
  g_requested = 0;
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &sa, &g_old_term);
  sigaction(SIGINT, &sa, &g_old_int);
}

StopSignals::~StopSignals() {
  sigaction(SIGTERM, &g_old_term, nullptr);
  sigaction(SIGINT, &g_old_int, nullptr);
}

int StopSignals::requested() { return g_requested.load(); }

void StopSignals::request(int signal) { g_requested = signal; }

}  // namespace robotrain::train
