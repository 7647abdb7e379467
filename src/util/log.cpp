#include "util/log.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "util/process.h"

namespace robotrain::util {

namespace {
LogLevel initial_level() {
  std::string v = to_lower(get_env_or("ROBOTRAIN_LOG_LEVEL", "info"));
  if (v == "debug") return LogLevel::Debug;
  if (v == "warn" || v == "warning") return LogLevel::Warn;
  if (v == "error") return LogLevel::Error;
  return LogLevel::Info;
}
LogLevel g_level = initial_level();
std::mutex g_mutex;
}  // namespace

void set_log_level(LogLevel level) { g_level = level; }
LogLevel log_level() { return g_level; }

void log_line(LogLevel level, const std::string& message) {
  static const char* names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
  std::lock_guard<std::mutex> lock(g_mutex);
  std::fprintf(stderr, "%s %s %s\n", names[static_cast<int>(level)], stamp, message.c_str());
  std::fflush(stderr);
}

bool stderr_is_terminal() { return ::isatty(2) == 1; }

long long now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace robotrain::util
