#pragma once
// Plain log lines on stderr ("INFO 2026-11-24 20:31:02 message"), so stdout stays clean for
// --json output and piping. ROBOTRAIN_LOG_LEVEL=debug|info|warn|error.
#include <string>

#include "util/strings.h"

namespace robotrain::util {

enum class LogLevel { Debug = 0, Info = 1, Warn = 2, Error = 3 };

void set_log_level(LogLevel level);
LogLevel log_level();
void log_line(LogLevel level, const std::string& message);

template <typename... Args>
void log_debug(const Args&... args) {
  if (log_level() <= LogLevel::Debug) log_line(LogLevel::Debug, cat(args...));
}
template <typename... Args>
void log_info(const Args&... args) {
  if (log_level() <= LogLevel::Info) log_line(LogLevel::Info, cat(args...));
}
template <typename... Args>
void log_warn(const Args&... args) {
  log_line(LogLevel::Warn, cat(args...));
}
template <typename... Args>
void log_error(const Args&... args) {
  log_line(LogLevel::Error, cat(args...));
}

// True when stderr is an interactive terminal (progress bars instead of log lines).
bool stderr_is_terminal();
// Wall-clock now as milliseconds since the epoch (MLflow timestamps).
long long now_ms();

}  // namespace robotrain::util
