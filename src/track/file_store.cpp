#include "track/file_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <random>

#include "track/durable_append.h"
#include "track/validation.h"
#include "track/yaml_meta.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strings.h"

namespace robotrain::track {

namespace fs = std::filesystem;
using util::cat;
using util::RuntimeError;

int run_status_to_int(const std::string& status) {
  if (status == "RUNNING") return 1;
  if (status == "SCHEDULED") return 2;
  if (status == "FINISHED") return 3;
  if (status == "FAILED") return 4;
  if (status == "KILLED") return 5;
  throw util::InputError(cat("unknown MLflow run status '", status, "'"));
}

std::string run_status_from_int(int status) {
  switch (status) {
    case 1: return "RUNNING";
    case 2: return "SCHEDULED";
    case 3: return "FINISHED";
    case 4: return "FAILED";
    case 5: return "KILLED";
  }
  return "RUNNING";
}

std::string path_to_file_uri(const fs::path& path) {
  return "file://" + util::url_encode(fs::absolute(path).lexically_normal().string(), true);
}

fs::path file_uri_to_path(const std::string& uri) {
  if (!util::starts_with(uri, "file:")) return fs::path(uri);
  std::string rest = uri.substr(5);
  if (util::starts_with(rest, "//")) {
    rest = rest.substr(2);
    auto slash = rest.find('/');
    rest = slash == std::string::npos ? "" : rest.substr(slash);
  }
  // Percent-decoding.
  std::string out;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '%' && i + 2 < rest.size()) {
      out += static_cast<char>(std::stoi(rest.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += rest[i];
    }
  }
  return fs::path(out);
}

std::map<std::string, std::string> read_key_files(const fs::path& dir) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it) {
    if (!it->is_regular_file()) continue;
    std::string name = it->path().filename().string();
    if (util::starts_with(name, ".")) continue;  // our own temp files
    out[fs::relative(it->path(), dir).generic_string()] = util::read_file(it->path());
  }
  return out;
}

namespace {

// MLflow's _generate_unique_integer_id: 18 random digits, no leading zero.
std::string unique_integer_id() {
  std::random_device rd;
  std::mt19937_64 rng((static_cast<uint64_t>(rd()) << 32) ^ rd() ^ static_cast<uint64_t>(util::now_ms()));
  std::string s(1, static_cast<char>('1' + rng() % 9));
  while (s.size() < 18) s += static_cast<char>('0' + rng() % 10);
  return s;
}

bool is_reserved_name(const std::string& name) {
  return name.empty() || name[0] == '.' || name == "models";
}

}  // namespace

FileStore::FileStore(fs::path root) : root_(fs::absolute(std::move(root)).lexically_normal()) {
  if (!root_.has_filename()) root_ = root_.parent_path();
  std::error_code ec;
  if (fs::exists(root_, ec) && !fs::is_directory(root_, ec))
    throw util::InputError(cat(root_.string(), ": tracking store path exists and is not a directory; pass a directory"));
  if (!fs::exists(root_ / "0" / "meta.yaml", ec)) {
    fs::create_directories(root_);
    if (!fs::exists(root_ / "0", ec)) create_experiment_with_id("0", "Default");
  }
  fs::create_directories(root_ / ".trash", ec);
}

void FileStore::create_experiment_with_id(const std::string& id, const std::string& name) {
  int64_t now = util::now_ms();
  ExperimentInfo e;
  e.experiment_id = id;
  e.name = name;
  e.artifact_location = path_to_file_uri(root_) + "/" + id;
  e.creation_time = now;
  e.last_update_time = now;
  // Build in a hidden staging directory so readers never see an experiment without meta.yaml.
  util::StagedDir staged(root_ / id);
  util::atomic_write_file(staged.path() / "meta.yaml", experiment_meta_yaml(e));
  staged.commit(false);
}

ExperimentInfo FileStore::read_experiment(const fs::path& dir) const { return parse_experiment_meta(dir / "meta.yaml"); }

std::vector<ExperimentInfo> FileStore::list_experiments() const {
  std::vector<ExperimentInfo> out;
  std::error_code ec;
  for (auto& entry : fs::directory_iterator(root_, ec)) {
    std::string name = entry.path().filename().string();
    if (!entry.is_directory() || is_reserved_name(name)) continue;
    if (!fs::exists(entry.path() / "meta.yaml")) continue;
    try {
      auto e = read_experiment(entry.path());
      if (e.experiment_id != name) continue;  // MLflow ignores mismatched ids too
      out.push_back(std::move(e));
    } catch (const std::exception& ex) {
      util::log_warn("skipping malformed experiment ", entry.path().string(), ": ", ex.what());
    }
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.creation_time > b.creation_time; });
  return out;
}

std::optional<ExperimentInfo> FileStore::find_experiment_by_name(const std::string& name) const {
  for (auto& e : list_experiments())
    if (e.name == name && e.lifecycle_stage == "active") return e;
  return std::nullopt;
}

ExperimentInfo FileStore::get_experiment(const std::string& experiment_id) const {
  fs::path dir = root_ / experiment_id;
  if (experiment_id.empty() || is_reserved_name(experiment_id) || !fs::exists(dir / "meta.yaml"))
    throw RuntimeError(cat("experiment ", experiment_id, " not found in ", root_.string()));
  return read_experiment(dir);
}

std::string FileStore::get_or_create_experiment(const std::string& name) {
  if (name.empty()) return "0";
  if (auto e = find_experiment_by_name(name)) return e->experiment_id;
  if (name.size() > 500) throw util::InputError(cat("experiment name longer than 500 characters: '", name.substr(0, 40), "...'"));
  std::string id = unique_integer_id();
  create_experiment_with_id(id, name);
  // Two processes may race on the same name: the oldest experiment wins for both.
  auto winner = find_experiment_by_name(name);
  return winner ? winner->experiment_id : id;
}

void FileStore::set_experiment_tag(const std::string& experiment_id, const std::string& key, const std::string& value) {
  validate_key("tag", key);
  util::atomic_write_file(root_ / experiment_id / "tags" / key, value);
}

namespace {

// Rewrites a small file in place, for when the disk has no room for the temp copy an atomic
// write needs: the new text goes into the blocks the old one occupies. Only done when it fits
// in them, so the write cannot fail for space.
bool rewrite_in_place(const fs::path& file, const std::string& text) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st {};
  bool fits = ::fstat(fd, &st) == 0 && static_cast<off_t>(text.size()) <= std::max<off_t>(st.st_blocks * 512, st.st_size);
  bool ok = fits && ::pwrite(fd, text.data(), text.size(), 0) == static_cast<ssize_t>(text.size()) &&
            ::ftruncate(fd, static_cast<off_t>(text.size())) == 0 && ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

void FileStore::write_run_meta(const RunInfo& run, bool on_create) const {
  const fs::path file = run_dir(run) / "meta.yaml";
  const std::string text = run_meta_yaml(run, on_create);
  try {
    util::atomic_write_file(file, text);
  } catch (const std::exception& e) {
    // A full disk must not leave a finished run RUNNING for ever.
    if (on_create || !rewrite_in_place(file, text)) throw WriteError(e.what());
    util::log_warn(file.string(), ": no room for a temporary copy (", e.what(), "); rewrote it in place");
  }
}

RunInfo FileStore::create_run(const std::string& experiment_id, const std::string& run_name, const std::string& user_id,
                              int64_t start_time, const std::map<std::string, std::string>& tags) {
  auto exp = get_experiment(experiment_id);
  if (exp.lifecycle_stage != "active")
    throw util::InputError(cat("experiment ", experiment_id, " (", exp.name, ") is deleted; restore it or pick another name"));
  for (auto& [k, v] : tags) validate_key("tag", k);
  RunInfo run;
  run.run_id = util::random_uuid_hex();
  run.experiment_id = experiment_id;
  auto name_tag = tags.find("mlflow.runName");
  run.run_name = !run_name.empty() ? run_name : (name_tag != tags.end() ? name_tag->second : "");
  if (run.run_name.empty()) run.run_name = cat("run-", run.run_id.substr(0, 8));
  run.user_id = user_id;
  run.status = "RUNNING";
  run.start_time = start_time;
  run.artifact_uri = exp.artifact_location + "/" + run.run_id + "/artifacts";
  util::StagedDir staged(run_dir(run));
  util::atomic_write_file(staged.path() / "meta.yaml", run_meta_yaml(run, true));
  fs::create_directories(staged.path() / "metrics");
  fs::create_directories(staged.path() / "params");
  fs::create_directories(staged.path() / "artifacts");
  staged.commit(false);
  auto all_tags = tags;
  all_tags["mlflow.runName"] = run.run_name;
  for (auto& [k, v] : all_tags) set_tag(run, k, v);
  return run;
}

RunInfo FileStore::read_run_info(const fs::path& dir) const { return parse_run_meta(dir / "meta.yaml"); }

std::optional<RunInfo> FileStore::find_run(const std::string& run_id) const {
  if (run_id.empty() || run_id.find('/') != std::string::npos || run_id[0] == '.') return std::nullopt;
  for (auto& e : list_experiments()) {
    fs::path dir = root_ / e.experiment_id / run_id;
    if (fs::exists(dir / "meta.yaml")) return read_run_info(dir);
  }
  return std::nullopt;
}

RunInfo FileStore::get_run(const std::string& run_id) const {
  auto r = find_run(run_id);
  if (!r) throw RuntimeError(cat("run ", run_id, " not found in ", root_.string(), "; list runs with `robotrain runs list`"));
  return *r;
}

std::vector<RunInfo> FileStore::list_runs(const std::string& experiment_id) const {
  std::vector<RunInfo> out;
  std::error_code ec;
  for (auto& entry : fs::directory_iterator(root_ / experiment_id, ec)) {
    std::string name = entry.path().filename().string();
    if (!entry.is_directory() || name[0] == '.' || name == "tags" || name == "datasets" || name == "traces") continue;
    if (!fs::exists(entry.path() / "meta.yaml")) continue;
    try {
      auto r = read_run_info(entry.path());
      if (r.experiment_id == experiment_id) out.push_back(std::move(r));
    } catch (const std::exception& ex) {
      util::log_debug("skipping malformed run ", entry.path().string(), ": ", ex.what());
    }
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.start_time > b.start_time; });
  return out;
}

namespace {

// "<timestamp> <value> [<step>]"; nullopt for anything else (a line torn by a full disk or a
// crash mid-write).
std::optional<MetricPoint> parse_metric_line(const std::string& key, const std::string& line) {
  auto parts = util::split(util::trim(line), ' ');
  MetricPoint m;
  m.key = key;
  if ((parts.size() != 2 && parts.size() != 3) || !util::parse_int64(parts[0], m.timestamp)) return std::nullopt;
  // Python's float() accepts nan/inf spellings that strtod also accepts.
  char* end = nullptr;
  m.value = std::strtod(parts[1].c_str(), &end);
  if (end == parts[1].c_str() || *end != '\0') return std::nullopt;
  if (parts.size() == 3 && !util::parse_int64(parts[2], m.step)) return std::nullopt;
  return m;
}

}  // namespace

std::vector<MetricPoint> FileStore::metric_history(const RunInfo& info, const std::string& key) const {
  validate_key("metric", key);
  fs::path file = run_dir(info) / "metrics" / key;
  std::vector<MetricPoint> out;
  std::ifstream in(file);
  std::string line;
  size_t bad = 0, n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (util::trim(line).empty()) continue;
    if (auto m = parse_metric_line(key, line)) out.push_back(*m);
    else ++bad;
  }
  // One unreadable line must not hide the rest of the run, nor the rest of the store.
  if (bad) util::log_warn(file.string(), ": skipped ", bad, " malformed line(s) of ", n, " (torn by a full disk or a crash?)");
  return out;
}

RunRecord FileStore::read_run(const RunInfo& info) const {
  RunRecord rec;
  rec.info = info;
  rec.params = read_key_files(run_dir(info) / "params");
  rec.tags = read_key_files(run_dir(info) / "tags");
  for (auto& [key, _] : read_key_files(run_dir(info) / "metrics")) {
    auto hist = metric_history(info, key);
    if (hist.empty()) continue;
    auto best = *std::max_element(hist.begin(), hist.end(), [](const MetricPoint& a, const MetricPoint& b) {
      return std::tie(a.step, a.timestamp, a.value) < std::tie(b.step, b.timestamp, b.value);
    });
    rec.metrics[key] = best;
  }
  if (rec.info.run_name.empty() && rec.tags.count("mlflow.runName")) rec.info.run_name = rec.tags["mlflow.runName"];
  return rec;
}

void FileStore::log_metric(const RunInfo& run, const MetricPoint& metric) {
  validate_key("metric", metric.key);
  fs::path file = run_dir(run) / "metrics" / metric.key;
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  if (ec) throw WriteError(cat(file.parent_path().string(), ": cannot create (", ec.message(), ")"));
  append_line(file, cat(metric.timestamp, ' ', python_float_repr(metric.value), ' ', metric.step, '\n'), false);
}

void FileStore::log_param(const RunInfo& run, const std::string& key, const std::string& value) {
  validate_key("param", key);
  std::string v = clamp_value(value, kMaxParamValueLength);
  fs::path file = run_dir(run) / "params" / key;
  if (fs::exists(file)) {
    std::string current = util::read_file(file);
    if (current == v) return;
    throw util::InputError(cat("param '", key, "' of run ", run.run_id, " was already logged as '", current,
                               "'; MLflow params are write-once (got '", v, "')"));
  }
  util::atomic_write_file(file, v);
}

void FileStore::set_tag(const RunInfo& run, const std::string& key, const std::string& value) {
  validate_key("tag", key);
  util::atomic_write_file(run_dir(run) / "tags" / key, clamp_value(value, kMaxTagValueLength));
}

RunInfo FileStore::update_run(const std::string& run_id, const std::string& status, int64_t end_time) {
  RunInfo run = get_run(run_id);
  run_status_to_int(status);  // validates
  run.status = status;
  run.end_time = end_time;
  write_run_meta(run, false);
  return run;
}

fs::path FileStore::artifacts_dir(const RunInfo& run) const {
  if (util::starts_with(run.artifact_uri, "file:")) return file_uri_to_path(run.artifact_uri);
  if (!run.artifact_uri.empty() && run.artifact_uri.find("://") == std::string::npos) return fs::path(run.artifact_uri);
  return run_dir(run) / "artifacts";
}

}  // namespace robotrain::track
