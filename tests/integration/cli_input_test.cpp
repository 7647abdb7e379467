// Invalid input through the real binary: every bad flag, policy field or checkpoint value ends
// in exit 2 and one line naming what to fix - never a signal, a truncated value, unbounded
// memory or "an unexpected internal error" - and two runs never share an output directory.
// Each case runs under a timeout and a data-segment cap, and its peak RSS is checked.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "train_support.h"
#include "util/process.h"
#include "util/strings.h"

namespace tt = robotrain::test::train;
namespace util = robotrain::util;
namespace fs = std::filesystem;
using robotrain::test::robotrain_bin;
using robotrain::test::run_robotrain;
using util::Json;

namespace {

struct Bounded {
  int exit_code = -1;  // 128+signal when killed
  std::string out, err;
  long peak_rss_kb = 0;
  bool timed_out = false;
};

constexpr rlim_t kDataCap = 2ull << 30;  // heap and anonymous memory; the libraries map more
constexpr long kPeakRssLimitKb = 1l << 20;  // 1 GiB

// Runs robotrain with its heap capped (RLIMIT_DATA) and a wall-clock limit; reports its peak
// RSS. A runaway allocation then fails inside robotrain instead of taking the machine down.
Bounded run_bounded(const std::vector<std::string>& args, double timeout_s = 180) {
  util::TempDir tmp("rt-bounded");
  const std::string out_path = (tmp.path() / "out").string(), err_path = (tmp.path() / "err").string();
  std::vector<std::string> argv_s{robotrain_bin()};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  Bounded r;
  pid_t pid = ::fork();
  if (pid == 0) {
    rlimit cap{kDataCap, kDataCap};
    ::setrlimit(RLIMIT_DATA, &cap);
    int o = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(o, 1);
    ::dup2(e, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  int status = 0;
  rusage usage{};
  while (true) {
    pid_t done = ::wait4(pid, &status, WNOHANG, &usage);
    if (done == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::wait4(pid, &status, 0, &usage);
      r.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.peak_rss_kb = usage.ru_maxrss;
  r.out = util::read_file(out_path);
  r.err = util::read_file(err_path);
  return r;
}

// stderr holds log lines ("INFO ...", "WARN ...") and exactly one error line, the last.
std::string the_error_line(const std::string& err) {
  std::vector<std::string> errors;
  for (const auto& line : util::split(err, '\n')) {
    if (line.empty()) continue;
    if (util::starts_with(line, "robotrain: error: ")) {
      errors.push_back(line);
      continue;
    }
    bool log_line = false;
    for (const char* level : {"DEBUG ", "INFO ", "WARN ", "ERROR "}) log_line |= util::starts_with(line, level);
    EXPECT_TRUE(log_line) << "stray line on stderr: " << line;
  }
  EXPECT_EQ(errors.size(), 1u) << err;
  return errors.empty() ? "" : errors.back();
}

// Exit 2, one error line holding `expected`, no runaway memory or time.
void expect_invalid(const std::vector<std::string>& args, const std::string& expected) {
  SCOPED_TRACE(util::join(args, " "));
  auto r = run_bounded(args);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_LT(r.peak_rss_kb, kPeakRssLimitKb);
  std::string line = the_error_line(r.err);
  EXPECT_NE(line.find(expected), std::string::npos) << line;
  EXPECT_EQ(line.find("unexpected internal error"), std::string::npos) << line;
}

using Flags = std::vector<std::pair<std::string, std::string>>;

// `base` with each flag of `flags` set: its value replaced where `base` has it, else appended.
std::vector<std::string> with(std::vector<std::string> base, const Flags& flags) {
  for (const auto& [flag, value] : flags) {
    auto it = std::find(base.begin(), base.end(), flag);
    if (it != base.end() && it + 1 != base.end()) *(it + 1) = value;
    else base.insert(base.end(), {flag, value});
  }
  return base;
}

// A tiny ACT run into `out` (tracking off), with `flags` set.
std::vector<std::string> act_run(const fs::path& out, const Flags& flags = {}, int steps = 2) {
  return with(tt::train_args(out.string(), steps, {"--no-tracking"}), flags);
}

std::vector<std::string> diffusion_run(const fs::path& out, const Flags& flags) {
  std::vector<std::string> a{"train", "--dataset.root", tt::synth_dataset(), "--output_dir", out.string(), "--steps", "2",
                             "--batch_size", "2", "--policy.type", "diffusion", "--policy.device", "cpu",
                             "--policy.down_dims", "[16,32]", "--policy.horizon", "8", "--policy.n_action_steps", "4",
                             "--policy.crop_shape", "[28,28]", "--num_workers", "1", "--num-threads", "2", "--no-tracking",
                             "--system-metrics", "false"};
  return with(a, flags);
}

}  // namespace

TEST(CliInput, FlagsThatCrashedOrGrewWithoutBoundAreRefused) {
  util::TempDir tmp("rt-cli-input");
  const fs::path out = tmp.path() / "run";
  // SIGFPE (dim_model % 0) before; 10 GB of loader threads; 100 MB/s of chunk offsets.
  expect_invalid(act_run(out, {{"--policy.n_heads", "0"}}), "n_heads must be in [1, 256], got 0");
  expect_invalid(act_run(out, {{"--num_workers", "100000"}}), "--num_workers: 100000 is out of range");
  expect_invalid({"dataset", "bench-loader", tt::synth_dataset(), "--chunk-size", "100000000"},
                 "--chunk-size: 100000000 is out of range");
  // Bounded by the data too: the longest episode has 40 frames.
  expect_invalid({"dataset", "bench-loader", tt::synth_dataset(), "--chunk-size", "41"}, "the longest has 40 frames");
  EXPECT_FALSE(fs::exists(out));
}

TEST(CliInput, IntegersAreRangeCheckedNeverTruncated) {
  util::TempDir tmp("rt-cli-input");
  const fs::path out = tmp.path() / "run";
  // 4294967298 used to train with batch size 2.
  expect_invalid(act_run(out, {{"--batch_size", "4294967298"}}), "--batch_size: 4294967298 is out of range");
  expect_invalid(act_run(out, {{"--steps", "99999999999999999999"}}), "--steps:");
  expect_invalid(act_run(out, {{"--policy.chunk_size", "4294967298"}}), "act: chunk_size is out of range");
  expect_invalid(act_run(out, {{"--policy.dim_model", "2.5"}}), "act: dim_model must be an integer, got 2.5");
  expect_invalid(act_run(out, {{"--val-split", "nan"}}), "--val-split: 'nan' is not a finite number");
  expect_invalid({"dataset", "synth", "--output", (tmp.path() / "ds").string(), "--episodes", "4294967297"},
                 "--episodes: 4294967297 is out of range");
  // An unsigned flag: CLI11 alone wraps -1 to 2^64-1.
  expect_invalid({"eval", "--env", "pusht", "--expert", "--seed", "-1"}, "--seed: -1 is out of range");
  expect_invalid({"submit", "local", "--dataset.root", tt::synth_dataset(), "--batch-size", "4294967298", "--dry-run"},
                 "--batch-size must be a positive integer up to 65536 (got '4294967298')");
  // Submission settings also come from the environment, checked the same way.
  ::setenv("TRAINING_STEPS", "18446744073709551617", 1);
  expect_invalid({"submit", "local", "--dataset.root", tt::synth_dataset(), "--dry-run"},
                 "TRAINING_STEPS (environment) must be a positive integer up to ");
  ::unsetenv("TRAINING_STEPS");
  // A leading zero is decimal, not octal.
  const fs::path ds = tmp.path() / "fps";
  auto r = run_robotrain({"dataset", "synth", "--output", ds.string(), "--episodes", "1", "--frames", "4", "--fps", "010",
                          "--height", "16", "--width", "16", "--codec", "h264"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(util::read_json_file(ds / "meta" / "info.json")["fps"].get<int>(), 10);
}

TEST(CliInput, PolicyFieldsAreValidatedBeforeTheModelIsBuilt) {
  util::TempDir tmp("rt-cli-input");
  const fs::path out = tmp.path() / "run";
  expect_invalid(act_run(out, {{"--policy.dim_model", "0"}}), "act: dim_model must be in [2, 8192], got 0");
  expect_invalid(act_run(out, {{"--policy.chunk_size", "1e8"}}), "act: chunk_size must be in [1, 1000], got 100000000");
  expect_invalid(act_run(out, {{"--policy.optimizer_lr", "-1"}}), "act: optimizer_lr must be in [0, 10], got -1");
  expect_invalid(act_run(out, {{"--policy.n_heads", "3"}}), "act: dim_model (32) must be divisible by n_heads (3)");
  expect_invalid(act_run(out, {{"--policy.n_action_steps", "20"}}), "act: n_action_steps (20) must be <= chunk_size (10)");
  expect_invalid(act_run(out, {{"--policy.dropout", "1"}}), "act: dropout must be in [0, 1), got 1");
  expect_invalid(act_run(out, {{"--policy.dim_model", "abc"}}), "act: dim_model must be an integer, got \"abc\"");
  expect_invalid(act_run(out, {{"--optimizer.lr", "-1"}}), "--optimizer.lr must be in (0, 10], got -1");
  expect_invalid(act_run(out, {{"--scheduler.num_warmup_steps", "-5"}}), "--scheduler.num_warmup_steps must be 0 or more");
  expect_invalid(diffusion_run(out, {{"--policy.horizon", "10"}}), "horizon (10) must be a multiple of 2^len(down_dims) = 4");
  expect_invalid(diffusion_run(out, {{"--policy.crop_shape", "[1000,1000]"}}), "crop_shape [1000, 1000] does not fit camera");
  expect_invalid(diffusion_run(out, {{"--policy.kernel_size", "4"}}), "kernel_size must be odd");
  expect_invalid(diffusion_run(out, {{"--policy.diffusion_step_embed_dim", "2"}}), "diffusion_step_embed_dim must be in [4, 8192]");
  expect_invalid(diffusion_run(out, {{"--policy.down_dims", "[]"}}), "down_dims must have 1 to 8 entries");
  expect_invalid(diffusion_run(out, {{"--policy.n_action_steps", "9"}}), "n_action_steps (9) must be in [1, horizon - n_obs_steps + 1");
  // A run refused before its first write leaves no directory: the same command can run again.
  EXPECT_FALSE(fs::exists(out));
}

TEST(CliInput, OtherNumericFlagsOfEveryCommandAreChecked) {
  util::TempDir tmp("rt-cli-input");
  const fs::path out = tmp.path() / "run", ds = tmp.path() / "ds";
  expect_invalid(act_run(out, {{"--num-threads", "-4"}}), "--num-threads: -4 is out of range");
  expect_invalid(act_run(out, {{"--save_freq", "-1"}}), "--save_freq: -1 is out of range");
  expect_invalid(act_run(out, {{"--steps", "0"}}), "--steps: 0 is out of range");
  expect_invalid({"eval", "--policy.path", out.string(), "--dataset.root", tt::synth_dataset(), "--eval-episodes", "-1"},
                 "--eval-episodes: -1 is out of range");
  expect_invalid({"eval", "--env", "pusht", "--expert", "--min-success", "2"}, "--min-success: 2 is out of range");
  expect_invalid({"dataset", "synth", "--output", ds.string(), "--crf", "1000"}, "--crf: 1000 is out of range");
  expect_invalid({"dataset", "synth", "--output", ds.string(), "--gop", "0"}, "--gop: 0 is out of range");
  expect_invalid({"dataset", "synth", "--output", ds.string(), "--height", "100000"}, "--height: 100000 is out of range");
  expect_invalid({"dataset", "synth", "--output", ds.string(), "--frames", "0"}, "--frames: 0 is out of range");
  expect_invalid({"dataset", "synth", "--output", ds.string(), "--codec", "h264", "--crf", "60"},
                 "--crf 60 is out of range: use 0..51");
  expect_invalid({"dataset", "bench-loader", tt::synth_dataset(), "--batch-size", "0"}, "--batch-size: 0 is out of range");
  expect_invalid({"dataset", "validate", tt::synth_dataset(), "--max-print", "-3"}, "--max-print: -3 is out of range");
  expect_invalid({"pipeline", "--eval-episodes", "0"}, "--eval-episodes: 0 is out of range");
  expect_invalid({"submit", "local", "--dataset.root", tt::synth_dataset(), "--learning-rate", "-1", "--dry-run"},
                 "--learning-rate must be a positive number up to 10 (got '-1')");
  expect_invalid({"submit", "local", "--dataset.root", tt::synth_dataset(), "--poll-interval", "-1", "--dry-run"},
                 "--poll-interval: -1 is out of range");
  expect_invalid({"runs", "list", "--max-results", "0"}, "--max-results: 0 is out of range");
  EXPECT_FALSE(fs::exists(ds));
}

TEST(CliInput, AFlagWhereAValueBelongsIsNamed) {
  util::TempDir tmp("rt-cli-input");
  const fs::path out = tmp.path() / "run";
  // Not "/tmp/x: missing value (use /tmp/x=VALUE)".
  expect_invalid({"train", "--steps", "--output_dir", out.string()},
                 "--steps needs a value (the next argument is the option --output_dir)");
  auto args = act_run(out);
  args.insert(args.end(), {"--policy.n_heads", "--job_name", "x"});
  expect_invalid(args, "--policy.n_heads needs a value");
  expect_invalid({"dataset", "synth", "--output", "--episodes", "2"}, "--output needs a value");
  expect_invalid({"eval", "--policy.path", "--dataset.root", "x"}, "--policy.path needs a value");
}

TEST(CliInput, EmptyPathsAreRefused) {
  util::TempDir tmp("rt-cli-input");
  // "" reached the filesystem and failed there as an internal error, or meant the working directory.
  expect_invalid(act_run(tmp.path() / "run", {{"--output_dir", ""}}), "--output_dir is empty");
  expect_invalid(act_run(tmp.path() / "run", {{"--dataset.root", ""}}), "--dataset.root is empty");
  expect_invalid({"dataset", "synth", "--output", ""}, "--output is empty");
  expect_invalid({"dataset", "merge", tt::synth_dataset(), "--output", ""}, "--output is empty");
  expect_invalid({"dataset", "info", ""}, "path is empty");
  expect_invalid({"eval", "--env", "pusht", "--expert", "--output_dir", ""}, "--output_dir is empty");
  EXPECT_FALSE(fs::exists(tmp.path() / "run"));
}

TEST(CliInput, MessagesStayOnOneLine) {
  util::TempDir tmp("rt-cli-input");
  const fs::path odd = tmp.path() / "two\nlines";
  auto r = run_bounded({"dataset", "info", odd.string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(the_error_line(r.err).find("two\\nlines"), std::string::npos) << r.err;
}

TEST(CliInput, FfmpegLogLinesDoNotReachTheTerminal) {
  util::TempDir tmp("rt-cli-input");
  const fs::path ds = tmp.path() / "ds";
  fs::copy(tt::synth_dataset(), ds, fs::copy_options::recursive);
  fs::path video;
  for (const auto& e : fs::recursive_directory_iterator(ds / "videos"))
    if (e.path().extension() == ".mp4") video = e.path();
  ASSERT_FALSE(video.empty());
  std::string bytes = util::read_file(video);
  for (size_t i = 64; i < bytes.size(); i += 97) bytes[i] = static_cast<char>(bytes[i] ^ 0x5a);
  std::ofstream(video, std::ios::binary | std::ios::trunc) << bytes;
  auto r = run_bounded({"dataset", "validate", ds.string()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("violation: videos/"), std::string::npos) << r.out;
  // FFmpeg prints "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55...] error reading header" by itself.
  for (const std::string* text : {&r.out, &r.err}) EXPECT_EQ(text->find(" @ 0x"), std::string::npos) << *text;
  // With debug logging they are ours: prefixed, one line each.
  auto dbg = run_robotrain({"dataset", "validate", ds.string()}, {{"ROBOTRAIN_LOG_LEVEL", "debug"}});
  for (const auto& line : util::split(dbg.err, '\n'))
    if (line.find(" @ 0x") != std::string::npos) EXPECT_TRUE(util::starts_with(line, "DEBUG ")) << line;
}

TEST(CliInput, NonUtf8PathsAreRefusedBeforeAnyWork) {
  util::TempDir tmp("rt-cli-input");
  const std::string bad = (tmp.path() / "run\xff\xfe").string();
  // Before: every step trained, then train_config.json could not be written.
  expect_invalid(act_run(bad), "--output_dir '");
  expect_invalid(act_run(tmp.path() / "run", {{"--dataset.root", (tmp.path() / "ds\xff").string()}}), "is not valid UTF-8");
  expect_invalid({"eval", "--env", "pusht", "--expert", "--output_dir", bad}, "is not valid UTF-8");
  expect_invalid({"dataset", "synth", "--output", bad}, "is not valid UTF-8");
  expect_invalid(act_run(tmp.path() / "run", {{"--policy.repo_id", "a\xff"}}), "is not valid UTF-8");
  EXPECT_FALSE(fs::exists(bad));
  EXPECT_FALSE(fs::exists(tmp.path() / "run"));
}

TEST(CliInput, DamagedTrainingStateIsInvalidInputOnResume) {
  util::TempDir tmp("rt-cli-input");
  const fs::path out = tmp.path() / "run";
  auto r = run_robotrain(act_run(out, {{"--save_freq", "2"}}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path step_file = out / "checkpoints" / "last" / "training_state" / "training_step.json";
  ASSERT_TRUE(fs::exists(step_file));
  for (const char* content : {R"({"step": -5})", R"({"step": "2"})", R"({"step": 18446744073709551615})"}) {
    util::atomic_write_file(step_file, content);
    expect_invalid(act_run(out, {{"--resume", "true"}, {"--steps", "4"}}), "training_step.json: ");
  }
  util::atomic_write_file(step_file, R"({"step": 2})");
  const fs::path state_file = out / "checkpoints" / "last" / "training_state" / "robotrain_state.json";
  const Json state = util::read_json_file(state_file);
  const std::vector<std::pair<std::string, Json>> damages = {
      {"samples_consumed", -8}, {"world_size", nullptr}, {"tracking", Json{{"run_id", nullptr}}}};
  for (const auto& [key, value] : damages) {
    Json damaged = state;
    damaged[key] = value;
    util::atomic_write_file(state_file, damaged.dump());
    expect_invalid(act_run(out, {{"--resume", "true"}, {"--steps", "4"}}), "robotrain_state.json: ");
  }
  util::atomic_write_file(state_file, state.dump());
  // A wrong type in the checkpoint's train_config.json is named, not "an unexpected internal error".
  const fs::path config_file = out / "checkpoints" / "last" / "pretrained_model" / "train_config.json";
  const Json config = util::read_json_file(config_file);
  // The file's numbers get the flags' ranges and are never truncated (4294967298 was 2).
  const std::vector<std::pair<Json::json_pointer, Json>> config_damages = {
      {Json::json_pointer("/policy/use_amp"), "x"},
      {Json::json_pointer("/save_freq"), -1},
      {Json::json_pointer("/batch_size"), 4294967298ull},
      {Json::json_pointer("/log_freq"), 2.5},
      {Json::json_pointer("/optimizer/betas"), Json::array({"a", 0.9})},
      {Json::json_pointer("/dataset/episodes"), Json::array({"0"})}};
  const std::vector<std::string> config_errors = {
      "act: use_amp must be true or false", "train_config.json: save_freq is -1, outside [1, ",
      "train_config.json: field 'batch_size' must be a whole number in range, got 4294967298",
      "field 'log_freq' must be a whole number in range, got 2.5", "field 'betas' must be a list of two numbers",
      "field 'episodes' must be a whole number in range, got \"0\""};
  for (size_t i = 0; i < config_damages.size(); ++i) {
    Json damaged = config;
    damaged[config_damages[i].first] = config_damages[i].second;
    util::atomic_write_file(config_file, damaged.dump());
    expect_invalid(act_run(out, {{"--resume", "true"}, {"--steps", "4"}}), config_errors[i]);
  }
  // Undamaged, the run resumes.
  util::atomic_write_file(config_file, config.dump());
  auto resumed = run_robotrain(act_run(out, {{"--resume", "true"}, {"--steps", "4"}}));
  EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
}

TEST(CliInput, OneRunPerOutputDirectoryAndAKilledHolderFreesIt) {
  util::TempDir tmp("rt-cli-input");
  const fs::path out = tmp.path() / "run";
  std::vector<std::string> argv{robotrain_bin()};
  for (const auto& a : act_run(out, {{"--save_freq", "2"}}, 100000)) argv.push_back(a);
  auto holder = std::make_unique<util::ChildProcess>(argv, util::ProcessOptions{}, (tmp.path() / "a.out").string(),
                                                     (tmp.path() / "a.err").string());
  for (int i = 0; i < 1200 && !fs::is_symlink(out / "checkpoints" / "last") && holder->running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(fs::is_symlink(out / "checkpoints" / "last")) << util::read_file(tmp.path() / "a.err");
  const std::string pid = "(pid " + std::to_string(holder->pid()) + ")";
  // A second run, new or resumed, stops at once naming the holder.
  expect_invalid(act_run(out), "is in use by another robotrain run " + pid);
  expect_invalid(act_run(out, {{"--resume", "true"}, {"--steps", "100000"}}), "is in use by another robotrain run " + pid);
  ASSERT_TRUE(holder->running());
  // SIGKILL: the kernel drops the lock with the process; the run continues where it was.
  holder->terminate(SIGKILL, 0);
  holder.reset();
  const auto saved =
      util::read_json_file(out / "checkpoints" / "last" / "training_state" / "training_step.json")["step"].get<int64_t>();
  auto r = run_robotrain(act_run(out, {{"--resume", "true"}, {"--steps", std::to_string(saved + 2)}}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find(util::cat("training done: step ", saved + 2)), std::string::npos) << r.err;
}
