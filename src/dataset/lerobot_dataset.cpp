// LeRobotDataset: random access to frames. Data parquet files are read once (lazily, per
// file) into columnar vectors so that get() costs a few copies for non-video features;
// video frames come from a shared decoder pool.
#include "dataset/lerobot_dataset.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <set>

#include "dataset/info.h"
#include "dataset/parquet/parquet.h"
#include "dataset/png.h"
#include "dataset/sampling.h"
#include "dataset/untrusted.h"
#include "dataset/video/video.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strings.h"

namespace robotrain::dataset {

namespace fs = std::filesystem;
using util::cat;

namespace {

// One feature's column of one data file, converted once.
struct ColumnData {
  DType dtype = DType::Float32;
  bool is_list = false;
  bool is_image = false;
  std::vector<float> f;
  std::vector<int64_t> i;
  std::vector<std::string> bytes;  // image: PNG bytes per row
  std::vector<std::string> paths;  // image: fallback path per row when bytes are null
  std::vector<int64_t> offsets;    // lists: row r is [offsets[r], offsets[r+1])
  int image_width = 0, image_height = 0;  // image: the size info.json declares

  int64_t row_begin(int64_t r) const { return is_list ? offsets[r] : r; }
  int64_t row_len(int64_t r) const { return is_list ? offsets[r + 1] - offsets[r] : 1; }
};

struct FileData {
  std::once_flag once;
  std::exception_ptr error;
  std::map<std::string, ColumnData> columns;
  std::map<int64_t, int64_t> first_row;  // episode_index -> first row in this file
  std::vector<int64_t> index;            // the "index" column, for a consistency check
};

ColumnData convert(const parquet::Column& c, const Feature& f) {
  ColumnData d;
  d.is_list = c.is_list;
  if (c.is_list) d.offsets = c.offsets;
  switch (c.type) {
    case parquet::ValueType::Float:
      d.dtype = DType::Float32;
      d.f = c.floats;
      break;
    case parquet::ValueType::Double:
      d.dtype = DType::Float32;
      d.f.assign(c.doubles.begin(), c.doubles.end());
      break;
    case parquet::ValueType::Bool:
      d.dtype = DType::Bool;
      d.i = c.ints;
      break;
    case parquet::ValueType::Int32:
    case parquet::ValueType::Int64:
      // A float feature stored as ints (seen in converted datasets) still trains as float.
      if (f.dtype == "float32" || f.dtype == "float64") {
        d.dtype = DType::Float32;
        d.f.assign(c.ints.begin(), c.ints.end());
      } else {
        d.dtype = f.dtype == "bool" ? DType::Bool : DType::Int64;
        d.i = c.ints;
      }
      break;
    default:
      throw util::RuntimeError(cat("column '", c.name, "' holds ", parquet::value_type_name(c.type), ", feature '", f.key,
                                   "' is ", f.dtype));
  }
  return d;
}

// Every row of a feature column holds as many values as the feature's shape: checked once
// per file, so a wrong shape in info.json is one clear error rather than a tensor mismatch
// deep inside the model.
void check_widths(const ColumnData& d, const Feature& f, int64_t rows, const fs::path& path) {
  int64_t want = 1;
  for (auto v : f.shape) want *= v;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t n = d.row_len(r);
    if (n != want)
      throw util::RuntimeError(cat(path.string(), " row ", r, ": column '", f.key, "' holds ", n, " value(s) but info.json shape ",
                                   util::Json(f.shape).dump(), " says ", want, "; run `robotrain dataset validate`"));
  }
}

void hwc_to_chw(const uint8_t* rgb, int h, int w, bool as_uint8, uint8_t* out_bytes) {
  const int64_t plane = static_cast<int64_t>(h) * w;
  if (as_uint8) {
    for (int64_t p = 0; p < plane; ++p)
      for (int c = 0; c < 3; ++c) out_bytes[c * plane + p] = rgb[p * 3 + c];
    return;
  }
  // Divided, not multiplied by 1/255: the same float32 LeRobot yields (x / 255), to the bit.
  float* out = reinterpret_cast<float*>(out_bytes);
  for (int64_t p = 0; p < plane; ++p)
    for (int c = 0; c < 3; ++c) out[c * plane + p] = static_cast<float>(rgb[p * 3 + c]) / 255.0f;
}

}  // namespace

struct LeRobotDataset::Impl {
  DatasetMeta meta;
  DatasetOptions options;
  std::vector<int64_t> used, skipped;
  std::vector<const Episode*> used_eps;  // sorted by from_index
  int64_t num_frames = 0;
  std::map<fs::path, std::unique_ptr<FileData>> files;
  std::vector<const Feature*> table_features;  // stored in the data parquet
  std::vector<const Feature*> video_features;
  mutable video::DecoderPool decoders;

  const Episode& episode_of(int64_t g) const {
    auto it = std::upper_bound(used_eps.begin(), used_eps.end(), g,
                               [](int64_t v, const Episode* e) { return v < e->from_index; });
    if (it == used_eps.begin() || g >= (*(it - 1))->to_index)
      throw util::InputError(cat("frame index ", g, " is not in the selected episodes of ", meta.root.string()));
    return **(it - 1);
  }

  FileData& file(const Episode& e) const {
    auto& fd = *files.at(e.data_path);
    std::call_once(fd.once, [&] {
      try {
        load_file(e.data_path, fd);
      } catch (...) {
        fd.error = std::current_exception();
      }
    });
    if (fd.error) std::rethrow_exception(fd.error);
    return fd;
  }

  void load_file(const fs::path& path, FileData& fd) const {
    parquet::Reader reader(path);
    std::set<std::string> have;
    for (const auto& c : reader.info().columns) have.insert(c.name);
    std::vector<std::string> cols = {"episode_index"};
    if (have.count("index")) cols.push_back("index");
    for (const Feature* f : table_features) {
      if (f->dtype == "image") {
        if (!have.count(f->key + ".bytes") && !have.count(f->key + ".path"))
          throw util::RuntimeError(cat(path.string(), ": image column '", f->key, "' (struct bytes/path) is missing"));
        if (have.count(f->key + ".bytes")) cols.push_back(f->key + ".bytes");
        if (have.count(f->key + ".path")) cols.push_back(f->key + ".path");
      } else if (f->key != "episode_index" && f->key != "index") {
        if (!have.count(f->key))
          throw util::RuntimeError(cat(path.string(), ": column '", f->key, "' of feature '", f->key, "' is missing"));
        cols.push_back(f->key);
      }
    }
    auto t = reader.read(cols);
    const auto& ep = t.column("episode_index");
    if (ep.type != parquet::ValueType::Int32 && ep.type != parquet::ValueType::Int64)
      throw util::RuntimeError(cat(path.string(), ": column 'episode_index' holds ", parquet::value_type_name(ep.type),
                                   ", integers are expected; run `robotrain dataset validate`"));
    for (int64_t r = 0; r < t.num_rows; ++r) {
      if (ep.is_list && ep.offsets.at(r + 1) <= ep.offsets.at(r))
        throw util::RuntimeError(cat(path.string(), " row ", r, ": episode_index is an empty list"));
      int64_t v = ep.is_list ? ep.ints.at(ep.offsets[r]) : ep.ints.at(r);
      fd.first_row.emplace(v, r);
    }
    if (t.has("index")) fd.index = t.column("index").ints;
    for (const Feature* f : table_features) {
      if (f->dtype == "image") {
        ColumnData d;
        d.is_image = true;
        d.dtype = options.images_as_uint8 ? DType::UInt8 : DType::Float32;
        if (t.has(f->key + ".bytes")) {
          auto& c = t.column(f->key + ".bytes");
          d.bytes = std::move(c.strings);
          if (!c.valid.empty())
            for (size_t k = 0; k < d.bytes.size(); ++k)
              if (!c.valid[k]) d.bytes[k].clear();
        }
        if (t.has(f->key + ".path")) d.paths = std::move(t.column(f->key + ".path").strings);
        const auto chw = camera_chw(*f);
        d.image_height = static_cast<int>(chw[1]);
        d.image_width = static_cast<int>(chw[2]);
        fd.columns[f->key] = std::move(d);
      } else {
        auto d = convert(t.column(f->key), *f);
        check_widths(d, *f, t.num_rows, path);
        fd.columns[f->key] = std::move(d);
      }
    }
  }

  int64_t row_of(const FileData& fd, const Episode& e, int64_t g) const {
    auto it = fd.first_row.find(e.index);
    if (it == fd.first_row.end())
      throw util::RuntimeError(cat(e.data_path.string(), ": holds no rows of episode ", e.index, "; meta/episodes points at the wrong file"));
    int64_t r = it->second + (g - e.from_index);
    if (!fd.index.empty() && (r >= static_cast<int64_t>(fd.index.size()) || fd.index[r] != g))
      throw util::RuntimeError(cat(e.data_path.string(), ": row for frame index ", g, " of episode ", e.index,
                                   " is out of order; run `robotrain dataset validate`"));
    return r;
  }

  // Copies rows `rows` of one column into an Array ([T, ...] when `time_dim`).
  Array gather(const ColumnData& c, const std::vector<int64_t>& rows, bool time_dim, const std::string& key,
               const fs::path& file) const {
    if (c.is_image) return gather_images(c, rows, time_dim, key, file);
    const int64_t width = c.row_len(rows[0]);
    std::vector<int64_t> shape;
    if (time_dim) shape.push_back(static_cast<int64_t>(rows.size()));
    if (c.is_list) shape.push_back(width);
    Array a(c.dtype, shape);
    for (size_t k = 0; k < rows.size(); ++k) {
      const int64_t b = c.row_begin(rows[k]);
      if (c.row_len(rows[k]) != width)
        throw util::RuntimeError(cat(file.string(), ": column '", key, "' has rows of different lengths (", width, " and ",
                                     c.row_len(rows[k]), ")"));
      switch (c.dtype) {
        case DType::Float32: std::memcpy(a.data<float>() + k * width, c.f.data() + b, width * sizeof(float)); break;
        case DType::Int64: std::memcpy(a.data<int64_t>() + k * width, c.i.data() + b, width * sizeof(int64_t)); break;
        case DType::Bool:
        case DType::UInt8:
          for (int64_t j = 0; j < width; ++j) a.data<uint8_t>()[k * width + j] = c.i[b + j] ? 1 : 0;
          break;
      }
    }
    return a;
  }

  Array gather_images(const ColumnData& c, const std::vector<int64_t>& rows, bool time_dim, const std::string& key,
                      const fs::path& file) const {
    Array out;
    for (size_t k = 0; k < rows.size(); ++k) {
      const int64_t r = rows[k];
      RgbImage img;
      std::string what = cat(file.string(), " column '", key, "' row ", r);
      if (r < static_cast<int64_t>(c.bytes.size()) && !c.bytes[r].empty()) {
        img = decode_png(c.bytes[r], what, c.image_width, c.image_height);
      } else if (r < static_cast<int64_t>(c.paths.size()) && !c.paths[r].empty()) {
        // The path comes from the dataset: it must name a regular file under the root.
        const fs::path p = path_inside(meta.root, c.paths[r], cat(what, ": image path"));
        if (!regular_file_exists(p)) throw util::RuntimeError(cat(what, ": image file ", p.string(), " is missing"));
        img = decode_png(util::read_file(p), p.string(), c.image_width, c.image_height);
      } else {
        throw util::RuntimeError(cat(what, ": image has neither bytes nor a path"));
      }
      if (k == 0) {
        std::vector<int64_t> shape = {3, img.height, img.width};
        if (time_dim) shape.insert(shape.begin(), static_cast<int64_t>(rows.size()));
        out = Array(c.dtype, shape);
      }
      const size_t per = static_cast<size_t>(3) * img.height * img.width * dtype_size(c.dtype);
      if (out.bytes.size() < per * (k + 1)) throw util::RuntimeError(cat(what, ": image size differs from earlier frames"));
      hwc_to_chw(img.rgb.data(), img.height, img.width, c.dtype == DType::UInt8, out.bytes.data() + per * k);
    }
    return out;
  }

  // Frames are decoded straight into the sample's planar array, at the size info.json declares
  // for the camera: a video of any other size (smaller, transposed, or a damaged stream) is an
  // error naming the file, never a tensor reinterpreted at the wrong shape.
  Array decode_video(const Feature& f, const Episode& e, const std::vector<double>& ts, bool time_dim) const {
    const auto& seg = e.videos.at(f.key);
    std::vector<double> shifted;
    shifted.reserve(ts.size());
    for (double t : ts) shifted.push_back(t + seg.from_timestamp);
    const auto chw = camera_chw(f);
    if (chw.size() != 3 || chw[0] != 3 || chw[1] <= 0 || chw[2] <= 0)
      throw util::RuntimeError(cat(meta.root.string(), "/meta/info.json: video feature '", f.key, "' has shape ",
                                   util::Json(f.shape).dump(), "; a camera needs [height, width, 3]"));
    const DType dt = options.images_as_uint8 ? DType::UInt8 : DType::Float32;
    auto context = [&] {
      return cat(" (episode ", e.index, ", camera ", f.key, ", episode timestamp ", ts.front(), " s + from_timestamp ",
                 seg.from_timestamp, " s)");
    };
    try {
      auto lease = decoders.acquire(seg.path, shifted.front());
      const auto& vi = lease->info();
      // Checked against the stream header before anything is allocated from the declared size.
      if (auto mismatch = video_size_mismatch(f, vi.width, vi.height); !mismatch.empty())
        throw util::RuntimeError(cat(seg.path.string(), ": ", mismatch, "; re-encode the video at that size or correct info.json"));
      std::vector<int64_t> shape = {3, chw[1], chw[2]};
      if (time_dim) shape.insert(shape.begin(), static_cast<int64_t>(ts.size()));
      Array out(dt, shape);
      video::PlanarTarget target;
      target.width = static_cast<int>(chw[2]);
      target.height = static_cast<int>(chw[1]);
      target.as_float = dt == DType::Float32;
      const size_t per = static_cast<size_t>(3) * chw[1] * chw[2] * dtype_size(dt);
      for (size_t k = 0; k < ts.size(); ++k) target.frames.push_back(out.bytes.data() + per * k);
      lease->frames_into(shifted, options.tolerance_s, target);
      return out;
    } catch (const util::Error& err) {
      throw util::RuntimeError(cat(err.what(), context()));
    }
  }
};

LeRobotDataset::LeRobotDataset(const fs::path& root, DatasetOptions options) : impl_(std::make_unique<Impl>()) {
  auto& m = impl_->meta;
  m = load_metadata(root);
  impl_->options = std::move(options);
  const auto& opt = impl_->options;
  for (const auto& [key, deltas] : opt.delta_indices) {
    if (!m.feature(key))
      throw util::InputError(cat("delta indices given for '", key, "', which is not a feature of ", m.root.string()));
    if (deltas.empty()) throw util::InputError(cat("delta indices for '", key, "' are empty"));
  }
  for (const auto& f : m.features) {
    if (f.is_video()) impl_->video_features.push_back(&f);
    else if (f.dtype != "string" && f.dtype != "language") impl_->table_features.push_back(&f);
  }
  std::set<int64_t> wanted;
  if (opt.episodes) {
    for (int64_t e : *opt.episodes) {
      bool found = std::any_of(m.episodes.begin(), m.episodes.end(), [&](const Episode& ep) { return ep.index == e; });
      if (!found)
        throw util::InputError(cat("episode ", e, " is not in ", m.root.string(), " (it has ", m.episodes.size(), " episodes)"));
      wanted.insert(e);
    }
  }
  std::vector<std::string> problems;
  for (const auto& e : m.episodes) {
    if (opt.episodes && !wanted.count(e.index)) continue;
    std::string why;
    if (!e.data_exists) why = cat("data file ", e.data_path.string(), " is missing");
    for (const auto& [k, seg] : e.videos)
      if (!seg.exists && why.empty()) why = cat("video ", seg.path.string(), " is missing");
    if (!why.empty()) {
      problems.push_back(cat("episode ", e.index, ": ", why));
      impl_->skipped.push_back(e.index);
      continue;
    }
    impl_->used.push_back(e.index);
    impl_->used_eps.push_back(&e);
    impl_->num_frames += e.length;
  }
  if (!problems.empty()) {
    if (opt.strict)
      throw util::RuntimeError(cat(m.root.string(), ": ", problems.size(), " episode(s) unusable (strict mode): ",
                                   util::join(problems, "; ")));
    for (const auto& p : problems) util::log_warn(p, " - episode skipped");
  }
  std::sort(impl_->used_eps.begin(), impl_->used_eps.end(),
            [](const Episode* a, const Episode* b) { return a->from_index < b->from_index; });
  for (const Episode* e : impl_->used_eps)
    if (!impl_->files.count(e->data_path)) impl_->files.emplace(e->data_path, std::make_unique<FileData>());
}

LeRobotDataset::~LeRobotDataset() = default;
LeRobotDataset::LeRobotDataset(LeRobotDataset&&) noexcept = default;

const DatasetMeta& LeRobotDataset::meta() const { return impl_->meta; }
const DatasetOptions& LeRobotDataset::options() const { return impl_->options; }
int64_t LeRobotDataset::num_frames() const { return impl_->num_frames; }
const std::vector<int64_t>& LeRobotDataset::episodes_used() const { return impl_->used; }
const std::vector<int64_t>& LeRobotDataset::episodes_skipped() const { return impl_->skipped; }

Sample LeRobotDataset::get(int64_t g) const {
  const Impl& im = *impl_;
  const Episode& e = im.episode_of(g);
  const FileData& fd = im.file(e);
  const int64_t row = im.row_of(fd, e, g);
  Sample s;
  auto rows_for = [&](const std::string& key, bool& time_dim) {
    auto it = im.options.delta_indices.find(key);
    time_dim = it != im.options.delta_indices.end();
    if (!time_dim) return std::vector<int64_t>{row};
    DeltaQuery q = delta_query(g, e.from_index, e.to_index, it->second);
    Array pad(DType::Bool, {static_cast<int64_t>(q.is_pad.size())});
    std::copy(q.is_pad.begin(), q.is_pad.end(), pad.data<uint8_t>());
    s.arrays[key + "_is_pad"] = std::move(pad);
    std::vector<int64_t> rows;
    for (int64_t qi : q.indices) rows.push_back(row + (qi - g));
    return rows;
  };
  for (const Feature* f : im.table_features) {
    bool time_dim = false;
    auto rows = rows_for(f->key, time_dim);
    s.arrays[f->key] = im.gather(fd.columns.at(f->key), rows, time_dim, f->key, e.data_path);
  }
  if (!im.video_features.empty()) {
    const auto& ts_col = fd.columns.count("timestamp") ? &fd.columns.at("timestamp") : nullptr;
    for (const Feature* f : im.video_features) {
      bool time_dim = false;
      auto rows = rows_for(f->key, time_dim);
      std::vector<double> ts;
      for (int64_t r : rows) {
        // Without a timestamp column, LeRobot's invariant timestamp = frame_index / fps.
        ts.push_back(ts_col ? static_cast<double>(ts_col->f.at(ts_col->row_begin(r)))
                            : static_cast<double>(g + (r - row) - e.from_index) / im.meta.fps);
      }
      s.arrays[f->key] = im.decode_video(*f, e, ts, time_dim);
    }
  }
  // Default scalars even for datasets whose info.json forgot to list them.
  auto put_int = [&](const char* key, int64_t v) {
    if (s.arrays.count(key)) return;
    Array a(DType::Int64, {});
    *a.data<int64_t>() = v;
    s.arrays[key] = std::move(a);
  };
  put_int("index", g);
  put_int("episode_index", e.index);
  put_int("frame_index", g - e.from_index);
  int64_t task_index = 0;
  if (auto it = fd.columns.find("task_index"); it != fd.columns.end() && !it->second.i.empty())
    task_index = it->second.i.at(it->second.row_begin(row));
  else if (!e.tasks.empty()) {
    auto pos = std::find(im.meta.tasks.begin(), im.meta.tasks.end(), e.tasks.front());
    if (pos != im.meta.tasks.end()) task_index = pos - im.meta.tasks.begin();
  }
  put_int("task_index", task_index);
  if (task_index >= 0 && task_index < static_cast<int64_t>(im.meta.tasks.size())) s.task = im.meta.tasks[task_index];
  else if (!e.tasks.empty()) s.task = e.tasks.front();
  return s;
}

}  // namespace robotrain::dataset
