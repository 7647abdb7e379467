// A corruption corpus generated here (no checked-in blobs): a small v3.0 dataset from
// `robotrain dataset synth` and a v2.1 dataset derived from it (per-episode parquet with a
// PNG image column, jsonl metadata), then for each of their files - info.json, data parquet,
// episodes parquet / jsonl, tasks, stats, videos, images - truncated, garbled, type-swapped,
// out-of-range and path-escaping variants. Each variant goes through `dataset info`,
// `dataset validate`, the loader (`dataset bench-loader`), `train` (two steps of a tiny ACT),
// `dataset merge` and (v2.1) `dataset convert`, each child under a timeout and a data-segment
// cap, with its peak RSS measured. Every run must end with an exit code (never a signal or a
// hang) and, when it fails, one error line; validate must reject every variant (so it
// rejects whatever train fails on), naming the fault train names; merge and convert must
// refuse the source (exit 2, naming it) and leave nothing behind; no file may appear outside
// the dataset and output folders.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "dataset/lerobot_dataset.h"
#include "dataset/parquet/parquet.h"
#include "dataset/png.h"
#include "support/test_support.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/strings.h"

namespace fs = std::filesystem;
namespace util = robotrain::util;
namespace ds = robotrain::dataset;
namespace pq = robotrain::dataset::parquet;
using robotrain::test::robotrain_bin;
using robotrain::test::run_robotrain;
using util::cat;

namespace {

constexpr int64_t kGiB = int64_t{1} << 30;
constexpr double kTimeoutS = 90;

// ---- running a capped child ---------------------------------------------------------------

struct Run {
  std::vector<std::string> args;
  int exit_code = -1;
  int signal = 0;
  bool timed_out = false;
  int64_t peak_rss = 0;  // bytes
  double seconds = 0;
  std::string out, err;
};

std::string slurp(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p, ec) ? util::read_file(p) : std::string();
}

// robotrain ARGS with RLIMIT_DATA capped (heap and anonymous maps: a runaway allocation fails
// instead of exhausting the shared machine) and killed after kTimeoutS; peak RSS from wait4.
void run_capped(Run& r, const fs::path& scratch) {
  std::vector<std::string> argv{robotrain_bin()};
  argv.insert(argv.end(), r.args.begin(), r.args.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  const std::string out_path = (scratch / "stdout").string(), err_path = (scratch / "stderr").string();
  const pid_t pid = ::fork();
  if (pid == 0) {
    rlimit lim{static_cast<rlim_t>(3 * kGiB), static_cast<rlim_t>(3 * kGiB)};
    ::setrlimit(RLIMIT_DATA, &lim);
    const int o = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int in = ::open("/dev/null", O_RDONLY);
    if (o < 0 || e < 0 || in < 0) ::_exit(126);
    ::dup2(in, 0);
    ::dup2(o, 1);
    ::dup2(e, 2);
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  ASSERT_GT(pid, 0);
  const auto t0 = std::chrono::steady_clock::now();
  int status = 0;
  rusage ru{};
  while (true) {
    const pid_t w = ::wait4(pid, &status, WNOHANG, &ru);
    if (w == pid) break;
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > kTimeoutS) {
      r.timed_out = true;
      ::kill(pid, SIGKILL);
      ::wait4(pid, &status, 0, &ru);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  r.peak_rss = static_cast<int64_t>(ru.ru_maxrss) * 1024;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status)) r.signal = WTERMSIG(status), r.exit_code = 128 + r.signal;
  r.out = slurp(out_path);
  r.err = slurp(err_path);
}

// Runs every job on two threads (the VM's cores); each child is single-threaded enough.
void run_all(std::vector<Run*>& jobs, const fs::path& scratch) {
  std::atomic<size_t> next{0};
  auto worker = [&](int id) {
    const fs::path dir = scratch / cat("worker", id);
    fs::create_directories(dir);
    for (size_t i; (i = next++) < jobs.size();) run_capped(*jobs[i], dir);
  };
  std::thread a(worker, 0), b(worker, 1);
  a.join();
  b.join();
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  for (auto& l : util::split(s, '\n'))
    if (!util::trim(l).empty()) out.push_back(l);
  return out;
}

bool is_log_line(const std::string& l) {
  for (const char* p : {"INFO ", "WARN ", "DEBUG "})
    if (util::starts_with(l, p)) return true;
  return false;
}

// FFmpeg's own log lines ("[h264 @ 0x55d...] ...") still reach stderr for damaged videos; the
// video layer owns silencing them, so they are counted apart rather than failing every video
// case here.
bool is_ffmpeg_line(const std::string& l) { return util::starts_with(l, "[") && l.find(" @ 0x") != std::string::npos; }

// ---- the base datasets --------------------------------------------------------------------

const char* kCam = "observation.images.cam0";

void synth(const fs::path& out, const std::string& episodes, const std::string& frames, const std::string& h, const std::string& w) {
  auto r = run_robotrain({"dataset", "synth", "--output", out.string(), "--episodes", episodes, "--frames", frames, "--cameras",
                          "1", "--height", h, "--width", w, "--codec", "h264", "--seed", "5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

pq::Column int_col(const std::string& name, std::vector<int64_t> v) {
  pq::Column c;
  c.name = name;
  c.type = pq::ValueType::Int64;
  c.ints = std::move(v);
  return c;
}

std::string episode_file(int64_t e) { return cat("data/chunk-000/episode_", std::string(5, '0'), e, ".parquet"); }

// The v3.0 base as LeRobot v2.1 would store it with an image camera: one parquet per episode
// whose camera column holds PNG bytes (the frames the loader decodes from the video),
// episodes/tasks/episodes_stats jsonl.
void write_v21(const fs::path& v3, const fs::path& root) {
  ds::DatasetOptions opt;
  opt.images_as_uint8 = true;
  ds::LeRobotDataset src(v3, opt);
  const auto& m = src.meta();
  fs::create_directories(root / "meta");
  fs::create_directories(root / "data/chunk-000");
  auto info = m.info;
  info["codebase_version"] = "v2.1";
  info["data_path"] = "data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet";
  info["video_path"] = nullptr;
  info["features"][kCam]["dtype"] = "image";
  info["features"][kCam].erase("info");
  info.erase("data_files_size_in_mb");
  info.erase("video_files_size_in_mb");
  util::write_json_file(root / "meta/info.json", info);
  const auto stats = util::read_json_file(v3 / "meta/stats.json");
  std::string episodes, episode_stats;
  for (const auto& e : m.episodes) {
    pq::Table t;
    t.num_rows = e.length;
    pq::Column state, action, png, ts;
    state.name = "observation.state";
    action.name = "action";
    for (auto* c : {&state, &action}) {
      c->type = pq::ValueType::Float;
      c->is_list = true;
      c->offsets = {0};
    }
    png.name = std::string(kCam) + ".bytes";
    png.type = pq::ValueType::Binary;
    ts.name = "timestamp";
    ts.type = pq::ValueType::Float;
    std::vector<int64_t> fi, ei, gi, ti;
    for (int64_t f = 0; f < e.length; ++f) {
      auto s = src.get(e.from_index + f);
      for (int d = 0; d < 2; ++d) {
        state.floats.push_back(s.arrays.at("observation.state").data<float>()[d]);
        action.floats.push_back(s.arrays.at("action").data<float>()[d]);
      }
      state.offsets.push_back(static_cast<int64_t>(state.floats.size()));
      action.offsets.push_back(static_cast<int64_t>(action.floats.size()));
      const auto& chw = s.arrays.at(kCam);
      const int64_t h = chw.shape[1], w = chw.shape[2];
      std::vector<uint8_t> hwc(static_cast<size_t>(h * w * 3));
      for (int64_t p = 0; p < h * w; ++p)
        for (int c = 0; c < 3; ++c) hwc[p * 3 + c] = chw.data<uint8_t>()[c * h * w + p];
      png.strings.push_back(ds::encode_png(hwc.data(), static_cast<int>(w), static_cast<int>(h)));
      ts.floats.push_back(static_cast<float>(f) / m.fps);
      fi.push_back(f);
      ei.push_back(e.index);
      gi.push_back(e.from_index + f);
      ti.push_back(0);
    }
    pq::Column path;
    path.name = std::string(kCam) + ".path";
    path.type = pq::ValueType::String;
    path.strings.assign(static_cast<size_t>(e.length), "");
    path.valid.assign(static_cast<size_t>(e.length), 0);
    t.columns = {state, action, png, path, ts, int_col("frame_index", fi), int_col("episode_index", ei), int_col("index", gi),
                 int_col("task_index", ti)};
    pq::WriteOptions w;
    w.struct_columns = {kCam};
    pq::write_table(root / episode_file(e.index), t, w);
    episodes += cat(util::Json{{"episode_index", e.index}, {"tasks", e.tasks}, {"length", e.length}}.dump(), "\n");
    episode_stats += cat(util::Json{{"episode_index", e.index}, {"stats", stats}}.dump(), "\n");
  }
  util::atomic_write_file(root / "meta/episodes.jsonl", episodes);
  util::atomic_write_file(root / "meta/tasks.jsonl", cat(util::Json{{"task_index", 0}, {"task", m.tasks.at(0)}}.dump(), "\n"));
  util::atomic_write_file(root / "meta/episodes_stats.jsonl", episode_stats);
}

// ---- mutations ----------------------------------------------------------------------------

void edit_json(const fs::path& p, const std::function<void(util::Json&)>& f) {
  auto j = util::read_json_file(p);
  f(j);
  util::write_json_file(p, j);
}

void truncate_half(const fs::path& p) { fs::resize_file(p, fs::file_size(p) / 2); }

// Bytes in the middle overwritten with a fixed pseudo-random pattern.
void garble(const fs::path& p, size_t n) {
  std::string b = util::read_file(p);
  const size_t start = b.size() / 2 > n / 2 ? b.size() / 2 - n / 2 : 0;
  uint32_t x = 0x9E3779B9u;
  for (size_t i = start; i < std::min(b.size(), start + n); ++i) {
    x = x * 1664525u + 1013904223u;
    b[i] = static_cast<char>(x >> 24);
  }
  std::ofstream(p, std::ios::binary | std::ios::trunc) << b;
}

void make_fifo(const fs::path& p) {
  fs::remove(p);
  ASSERT_EQ(::mkfifo(p.c_str(), 0644), 0);
}

void make_dir(const fs::path& p) {
  fs::remove(p);
  fs::create_directories(p / "x");
}

void empty(const fs::path& p) { std::ofstream(p, std::ios::binary | std::ios::trunc); }

// Rewrites one parquet file, changing its table.
void edit_parquet(const fs::path& p, const std::function<void(pq::Table&)>& f, std::vector<std::string> structs = {}) {
  auto t = pq::read_table(p);
  f(t);
  pq::WriteOptions w;
  w.struct_columns = std::move(structs);
  pq::write_table(p, t, w);
}

void set_ints(pq::Table& t, const std::string& col, int64_t v) {
  auto& c = t.column(col);
  for (auto& x : c.ints) x = v;
}

// A PNG's IHDR width and height replaced (CRC recomputed, so only the size lies).
std::string with_png_size(std::string png, uint32_t w, uint32_t h) {
  auto put = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) png[at + i] = static_cast<char>(v >> (24 - 8 * i));
  };
  put(16, w);
  put(20, h);
  const uint32_t crc = static_cast<uint32_t>(::crc32(0, reinterpret_cast<const unsigned char*>(png.data() + 12), 17));
  put(29, crc);
  return png;
}

std::string solid_png(int w, int h) {
  std::vector<uint8_t> rgb(static_cast<size_t>(w * h * 3), 128);
  return ds::encode_png(rgb.data(), w, h);
}

void edit_image_rows(const fs::path& root, const std::function<void(pq::Table&)>& f) {
  edit_parquet(root / episode_file(0), f, {kCam});
}

// ---- the corpus ---------------------------------------------------------------------------

struct Case {
  std::string name;
  std::function<void(const fs::path& root)> mutate;
  // Must appear in validate's output and, where train fails, in train's error too.
  std::string fault;
  bool bad_field = false;  // one size or count field: peak RSS < 1 GiB for every command
};

const std::string kData = "data/chunk-000/file-000.parquet";
const std::string kEpisodes = "meta/episodes/chunk-000/file-000.parquet";
const std::string kVideo = "videos/observation.images.cam0/chunk-000/file-000.mp4";

std::vector<Case> v3_cases(const fs::path& alt_resolution, const fs::path& alt_short) {
  auto info = [](std::function<void(util::Json&)> f) {
    return [f](const fs::path& r) { edit_json(r / "meta/info.json", f); };
  };
  auto stats = [](std::function<void(util::Json&)> f) {
    return [f](const fs::path& r) { edit_json(r / "meta/stats.json", f); };
  };
  auto data = [](std::function<void(pq::Table&)> f) {
    return [f](const fs::path& r) { edit_parquet(r / kData, f); };
  };
  auto episodes = [](std::function<void(pq::Table&)> f) {
    return [f](const fs::path& r) { edit_parquet(r / kEpisodes, f); };
  };
  auto file = [](const std::string& rel, std::function<void(const fs::path&)> f) {
    return [rel, f](const fs::path& r) { f(r / rel); };
  };
  return {
      // info.json
      {"info_truncated", file("meta/info.json", truncate_half), "invalid JSON"},
      {"info_directory", file("meta/info.json", make_dir), "is a directory"},
      {"info_fifo", file("meta/info.json", make_fifo), "is a FIFO"},
      {"fps_string", info([](util::Json& j) { j["fps"] = "30"; }), "\"fps\" is a JSON string"},
      {"dtype_number", info([](util::Json& j) { j["features"]["action"]["dtype"] = 32; }), "'action' dtype is 32"},
      {"shape_negative", info([](util::Json& j) { j["features"]["observation.state"]["shape"] = {-2}; }), "sizes must be >= 1"},
      {"shape_empty", info([](util::Json& j) { j["features"]["observation.state"]["shape"] = util::Json::array(); }), "shape is empty"},
      {"shape_huge", info([](util::Json& j) { j["features"]["action"]["shape"] = {100000000000ll}; }), "a size above", true},
      {"camera_resolution", info([](util::Json& j) { j["features"][kCam]["shape"] = {64, 96, 3}; }), "declares 96x64"},
      {"template_width", info([](util::Json& j) { j["data_path"] = "data/chunk-{chunk_index:02000000000d}/file-{file_index:03d}.parquet"; }),
       "width 02000000000d", true},
      {"template_escape", info([](util::Json& j) { j["data_path"] = "../../escape-{chunk_index}/{file_index}.parquet"; }),
       "leaves the dataset folder"},
      {"key_dotdot",
       info([](util::Json& j) {
         j["features"]["../../escape"] = j["features"][kCam];
         j["features"].erase(kCam);
       }),
       "holds a path separator"},
      {"total_frames_huge", info([](util::Json& j) { j["total_frames"] = 4000000000000ll; }), "total_frames is 4000000000000", true},
      // data parquet
      {"data_truncated", file(kData, truncate_half), kData},
      {"data_garbled", file(kData, [](const fs::path& p) { garble(p, 64); }), kData},
      {"data_fifo", file(kData, make_fifo), "is a FIFO"},
      {"data_state_as_text", data([](pq::Table& t) {
         auto& c = t.column("observation.state");
         c.type = pq::ValueType::String;
         c.strings.assign(c.floats.size(), "x");
         c.floats.clear();
       }),
       "column 'observation.state' holds string"},
      {"data_state_width3", data([](pq::Table& t) {
         auto& c = t.column("observation.state");
         std::vector<float> v;
         std::vector<int64_t> off{0};
         for (size_t r = 0; r + 1 < c.offsets.size(); ++r) {
           for (int k = 0; k < 3; ++k) v.push_back(0.5f);
           off.push_back(static_cast<int64_t>(v.size()));
         }
         c.floats = v;
         c.offsets = off;
       }),
       "column 'observation.state' holds 3 value(s)"},
      {"data_task_index_huge", data([](pq::Table& t) { set_ints(t, "task_index", 200000000); }), "task_index 200000000", true},
      {"data_timestamp_nan", data([](pq::Table& t) {
         for (auto& x : t.column("timestamp").floats) x = std::nanf("");
       }),
       "timestamp nan"},
      // episodes parquet
      {"episodes_garbled", file(kEpisodes, [](const fs::path& p) { garble(p, 64); }), kEpisodes},
      {"episodes_length_huge", episodes([](pq::Table& t) {
         set_ints(t, "length", 4000000000000ll);
         auto& from = t.column("dataset_from_index").ints;
         auto& to = t.column("dataset_to_index").ints;
         for (size_t i = 0; i < to.size(); ++i) to[i] = from[i] + 4000000000000ll;
       }),
       "claim 8000000000000 frames", true},
      {"episodes_tasks_empty", episodes([](pq::Table& t) {
         auto& c = t.column("tasks");
         c.strings.clear();
         for (auto& o : c.offsets) o = 0;
       }),
       "empty task list"},
      {"episodes_video_ts_negative", episodes([](pq::Table& t) {
         for (auto& x : t.column(cat("videos/", kCam, "/from_timestamp")).doubles) x = -1;
       }),
       "from_timestamp' row 0 is -1"},
      // tasks parquet
      {"tasks_truncated", file("meta/tasks.parquet", truncate_half), "tasks.parquet"},
      {"tasks_task_index_huge", [](const fs::path& r) {
         edit_parquet(r / "meta/tasks.parquet", [](pq::Table& t) { set_ints(t, "task_index", 200000000); });
       },
       "task_index 200000000 is outside [0, 1)", true},
      {"tasks_empty_table", [](const fs::path& r) {
         edit_parquet(r / "meta/tasks.parquet", [](pq::Table& t) {
           t.num_rows = 0;
           for (auto& c : t.columns) c.ints.clear(), c.strings.clear();
         });
       },
       "lists no tasks"},
      // stats.json
      {"stats_truncated", file("meta/stats.json", truncate_half), "stats.json: invalid JSON"},
      {"stats_mean_text", stats([](util::Json& j) { j["action"]["mean"] = "abc"; }), "'action' mean is \"abc\""},
      {"stats_wrong_size", stats([](util::Json& j) { j["action"]["mean"] = {1, 2, 3}; }), "'action' mean holds 3 value(s)"},
      {"stats_missing_action", stats([](util::Json& j) { j.erase("action"); }), "stats lack 'action."},
      // videos
      {"video_truncated", file(kVideo, truncate_half), kVideo},
      {"video_garbled", file(kVideo, [](const fs::path& p) { garble(p, 512); }), kVideo},
      {"video_fifo", file(kVideo, make_fifo), "is a FIFO"},
      {"video_other_resolution", file(kVideo, [alt_resolution](const fs::path& p) { fs::copy_file(alt_resolution / kVideo, p, fs::copy_options::overwrite_existing); }),
       "the video is 64x64 pixels"},
      {"video_shorter", file(kVideo, [alt_short](const fs::path& p) { fs::copy_file(alt_short / kVideo, p, fs::copy_options::overwrite_existing); }),
       kVideo},
      {"video_missing", file(kVideo, [](const fs::path& p) { fs::remove(p); }), "is missing"},
  };
}

std::vector<Case> v21_cases() {
  auto file = [](const std::string& rel, std::function<void(const fs::path&)> f) {
    return [rel, f](const fs::path& r) { f(r / rel); };
  };
  auto jsonl_line0 = [](const std::string& rel, std::function<void(util::Json&)> f) {
    return [rel, f](const fs::path& r) {
      auto lines = util::split(util::read_file(r / rel), '\n');
      auto j = util::Json::parse(lines.at(0));
      f(j);
      lines[0] = j.dump();
      util::atomic_write_file(r / rel, util::join(lines, "\n"));
    };
  };
  return {
      {"v21_episodes_length_huge", jsonl_line0("meta/episodes.jsonl", [](util::Json& j) { j["length"] = 4000000000000ll; }),
       "claim 4000000000000 frames", true},
      {"v21_episodes_garbled", file("meta/episodes.jsonl", [](const fs::path& p) { garble(p, 16); }), "episodes.jsonl"},
      {"v21_tasks_index_huge", jsonl_line0("meta/tasks.jsonl", [](util::Json& j) { j["task_index"] = 200000000; }),
       "task_index 200000000 is outside [0, 1)", true},
      {"v21_template_width",
       [](const fs::path& r) {
         edit_json(r / "meta/info.json", [](util::Json& j) { j["data_path"] = "data/chunk-{episode_chunk:02000000000d}/e.parquet"; });
       },
       "width 02000000000d", true},
      {"v21_image_smaller", [](const fs::path& r) {
         edit_image_rows(r, [](pq::Table& t) { t.column(std::string(kCam) + ".bytes").strings[3] = solid_png(24, 16); });
       },
       "image is 24x16"},
      {"v21_image_transposed", [](const fs::path& r) {
         edit_image_rows(r, [](pq::Table& t) { t.column(std::string(kCam) + ".bytes").strings[3] = solid_png(32, 48); });
       },
       "image is 32x48"},
      {"v21_image_garbled", [](const fs::path& r) {
         edit_image_rows(r, [](pq::Table& t) {
           auto& s = t.column(std::string(kCam) + ".bytes").strings[5];
           for (size_t i = s.size() / 2; i < s.size() / 2 + 8; ++i) s[i] = static_cast<char>(~s[i]);
         });
       },
       "fails its CRC"},
      {"v21_image_header_huge", [](const fs::path& r) {
         edit_image_rows(r, [](pq::Table& t) {
           auto& s = t.column(std::string(kCam) + ".bytes").strings[2];
           s = with_png_size(s, 60000, 60000);
         });
       },
       "PNG header declares 60000x60000", true},
      {"v21_image_path_escape", [](const fs::path& r) {
         edit_image_rows(r, [](pq::Table& t) {
           auto& bytes = t.column(std::string(kCam) + ".bytes");
           auto& path = t.column(std::string(kCam) + ".path");
           bytes.valid.assign(bytes.strings.size(), 1);
           bytes.valid[1] = 0;
           bytes.strings[1].clear();
           if (path.valid.empty()) path.valid.assign(path.strings.size(), 1);
           path.valid[1] = 1;
           path.strings[1] = "../../../../etc/passwd";
         });
       },
       "leaves the dataset folder"},
      {"v21_stats_garbled", file("meta/episodes_stats.jsonl", [](const fs::path& p) { garble(p, 16); }), "episodes_stats.jsonl"},
      {"v21_data_fifo", file(episode_file(1), make_fifo), "is a FIFO"},
  };
}

std::vector<std::string> tiny_train(const fs::path& root, const fs::path& out) {
  return {"train", "--dataset.root", root.string(), "--output_dir", out.string(), "--steps", "2", "--batch_size", "2",
          "--policy.type", "act", "--policy.device", "cpu", "--policy.dim_model", "16", "--policy.n_heads", "2",
          "--policy.dim_feedforward", "32", "--policy.n_encoder_layers", "1", "--policy.n_decoder_layers", "1",
          "--policy.n_vae_encoder_layers", "1", "--policy.latent_dim", "4", "--policy.chunk_size", "4",
          "--policy.n_action_steps", "4", "--num_workers", "1", "--num-threads", "1", "--system-metrics", "false",
          "--save_checkpoint", "false", "--val-split", "0", "--no-tracking", "--seed", "1"};
}

struct CaseRuns {
  Case c;
  fs::path root, out;
  Run info, validate, loader, train, merge, convert;
  bool v21 = false;
};

// Every file under `dir` but the commands' own output folders and the runner's scratch: the
// datasets themselves must not change, and nothing may appear beside them.
std::set<std::string> listing(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied)) {
    const std::string rel = fs::relative(e.path(), dir).string();
    const auto parts = util::split(rel, '/');
    if (parts[0] == "scratch" || (parts.size() >= 3 && parts[0] == "cases" && parts[2] == "out")) continue;
    out.insert(rel);
  }
  return out;
}

void check_one_line_failure(const CaseRuns& cr, const Run& r, const char* cmd) {
  const std::string who = cat(cr.c.name, " / ", cmd, ": ");
  EXPECT_FALSE(r.timed_out) << who << "hung (killed after " << kTimeoutS << " s)";
  EXPECT_EQ(r.signal, 0) << who << "killed by signal " << r.signal << "\n" << r.err.substr(0, 2000);
  EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1 || r.exit_code == 2) << who << "exit " << r.exit_code;
  EXPECT_EQ(r.err.find("unexpected internal error"), std::string::npos) << who << r.err;
  if (r.exit_code == 0) return;
  std::vector<std::string> errors, others;
  for (const auto& l : lines_of(r.err)) {
    if (util::starts_with(l, "robotrain: error: ")) errors.push_back(l);
    else if (!is_log_line(l) && !is_ffmpeg_line(l) && l.find('\r') == std::string::npos) others.push_back(l);
  }
  // validate's report: every violation on stdout, then the INVALID summary line.
  const auto out = lines_of(r.out);
  const bool report = std::string(cmd) == "validate" && r.exit_code == 1 && !out.empty() && util::starts_with(out.back(), "INVALID: ");
  if (report) {
    EXPECT_TRUE(errors.empty()) << who << r.err;
  } else {
    EXPECT_EQ(errors.size(), 1u) << who << "expected one error line:\n" << r.err.substr(0, 3000);
  }
  EXPECT_TRUE(others.empty()) << who << "lines beside the error:\n" << util::join(others, "\n").substr(0, 3000);
}

void check_case(const CaseRuns& cr, const fs::path& good) {
  const std::string name = cr.c.name;
  for (auto [r, cmd] : std::vector<std::pair<const Run*, const char*>>{
           {&cr.info, "info"}, {&cr.validate, "validate"}, {&cr.loader, "bench-loader"}, {&cr.train, "train"}, {&cr.merge, "merge"}}) {
    check_one_line_failure(cr, *r, cmd);
    // Nothing is sized from a bad field; train, whose ResNet alone takes most of a GiB when a
    // model is built, is held to it for the bad size fields (refused before any model).
    if (cr.c.bad_field || std::string(cmd) != "train")
      EXPECT_LT(r->peak_rss, kGiB) << name << " / " << cmd << ": peak RSS " << r->peak_rss;
  }
  if (cr.v21) {
    check_one_line_failure(cr, cr.convert, "convert");
    EXPECT_EQ(cr.convert.exit_code, 2) << name << " / convert: " << cr.convert.err;
    EXPECT_NE(cr.convert.err.find(cr.root.string()), std::string::npos) << name << " / convert: " << cr.convert.err;
    if (cr.c.bad_field) EXPECT_LT(cr.convert.peak_rss, kGiB) << name << " / convert";
  }
  // validate rejects every variant, and so everything train fails on, naming the fault.
  EXPECT_NE(cr.validate.exit_code, 0) << name << ": validate passed a corrupt dataset\n" << cr.validate.out;
  const std::string validate_text = cr.validate.out + cr.validate.err;
  EXPECT_NE(validate_text.find(cr.c.fault), std::string::npos)
      << name << ": validate does not name '" << cr.c.fault << "':\n" << validate_text.substr(0, 3000);
  if (cr.train.exit_code != 0 && cr.train.exit_code <= 2)
    EXPECT_NE(cr.train.err.find(cr.c.fault), std::string::npos)
        << name << ": train fails on something validate does not name ('" << cr.c.fault << "'):\n" << cr.train.err.substr(0, 3000);
  // merge refuses the source, naming it, and leaves no output or staging directory.
  EXPECT_EQ(cr.merge.exit_code, 2) << name << " / merge: " << cr.merge.err;
  EXPECT_NE(cr.merge.err.find(cr.root.string()), std::string::npos) << name << " / merge: " << cr.merge.err;
  EXPECT_FALSE(fs::exists(cr.out / "merged")) << name;
  EXPECT_FALSE(fs::exists(cr.out / "converted")) << name;
  for (const auto& e : fs::directory_iterator(cr.out))
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << name << ": left " << e.path();
  (void)good;
}

void run_corpus(const fs::path& tmp, const fs::path& base, const std::vector<Case>& cases, bool v21) {
  const fs::path good = tmp / "good";
  if (!fs::exists(good)) fs::copy(base, good, fs::copy_options::recursive);
  std::vector<std::unique_ptr<CaseRuns>> runs;
  std::vector<Run*> jobs;
  for (const auto& c : cases) {
    auto cr = std::make_unique<CaseRuns>();
    cr->c = c;
    cr->v21 = v21;
    cr->root = tmp / "cases" / c.name / "ds";
    cr->out = tmp / "cases" / c.name / "out";
    fs::create_directories(cr->out);
    fs::copy(base, cr->root, fs::copy_options::recursive);
    c.mutate(cr->root);
    const std::string root = cr->root.string();
    cr->info.args = {"dataset", "info", root};
    cr->validate.args = {"dataset", "validate", root};
    cr->loader.args = {"dataset", "bench-loader", root, "--steps", "2", "--batch-size", "2", "--num-workers", "1", "--chunk-size", "4"};
    cr->train.args = tiny_train(cr->root, cr->out / "train");
    cr->merge.args = {"dataset", "merge", good.string(), root, "--output", (cr->out / "merged").string()};
    cr->convert.args = {"dataset", "convert", root, "--output", (cr->out / "converted").string()};
    for (Run* r : {&cr->info, &cr->validate, &cr->loader, &cr->train, &cr->merge}) jobs.push_back(r);
    if (v21) jobs.push_back(&cr->convert);
    runs.push_back(std::move(cr));
  }
  const auto before = listing(tmp);
  const auto t0 = std::chrono::steady_clock::now();
  run_all(jobs, tmp / "scratch");
  std::cout << "[corpus] " << cases.size() << " cases, " << jobs.size() << " runs in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s\n";
  std::map<std::string, std::pair<double, int64_t>> per_command;  // seconds, max RSS
  for (const auto& cr : runs)
    for (auto [r, cmd] : std::vector<std::pair<const Run*, const char*>>{{&cr->info, "info"}, {&cr->validate, "validate"},
                                                                         {&cr->loader, "bench-loader"}, {&cr->train, "train"},
                                                                         {&cr->merge, "merge"}, {&cr->convert, "convert"}}) {
      auto& [secs, rss] = per_command[cmd];
      secs += r->seconds;
      rss = std::max(rss, r->peak_rss);
    }
  for (const auto& [cmd, v] : per_command)
    if (v.first > 0) std::cout << "[corpus] " << cmd << ": " << v.first << " s in all, peak RSS " << (v.second >> 20) << " MiB\n";
  for (const auto& cr : runs) check_case(*cr, good);
  // Nothing appeared outside the cases' folders (path-escaping variants wrote nowhere).
  const auto after = listing(tmp);
  for (const auto& f : after) EXPECT_TRUE(before.count(f)) << "written outside the outputs: " << f;
  for (const auto& f : before) EXPECT_TRUE(after.count(f)) << "removed from a dataset: " << f;
}

}  // namespace

TEST(DatasetCorruption, V30CorpusFailsCleanlyEverywhere) {
  util::TempDir outer("rt-corrupt3");
  const fs::path tmp = outer.path() / "t";
  fs::create_directories(tmp);
  synth(tmp / "base", "2", "12", "32", "48");
  synth(tmp / "alt_resolution", "2", "12", "64", "64");
  synth(tmp / "alt_short", "2", "6", "32", "48");
  // Sanity: the base itself passes everything the corpus runs.
  auto ok = run_robotrain({"dataset", "validate", (tmp / "base").string()});
  ASSERT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  run_corpus(tmp, tmp / "base", v3_cases(tmp / "alt_resolution", tmp / "alt_short"), false);
}

TEST(DatasetCorruption, V21CorpusFailsCleanlyEverywhere) {
  util::TempDir outer("rt-corrupt2");
  const fs::path tmp = outer.path() / "t";
  fs::create_directories(tmp);
  synth(tmp / "v3", "2", "12", "32", "48");
  write_v21(tmp / "v3", tmp / "base");
  for (const char* sub : {"validate", "info"}) {
    auto ok = run_robotrain({"dataset", sub, (tmp / "base").string()});
    ASSERT_EQ(ok.exit_code, 0) << sub << ": " << ok.out << ok.err;
  }
  auto conv = run_robotrain({"dataset", "convert", (tmp / "base").string(), "--output", (tmp / "conv").string()});
  ASSERT_EQ(conv.exit_code, 0) << conv.err;
  fs::remove_all(tmp / "conv");
  run_corpus(tmp, tmp / "base", v21_cases(), true);
}
