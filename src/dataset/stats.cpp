#include "dataset/stats.h"

#include <algorithm>
#include <cmath>

#include "dataset/untrusted.h"
#include "util/error.h"
#include "util/strings.h"

namespace robotrain::dataset {

namespace {

const std::vector<std::pair<const char*, double>> kQuantiles = {
    {"q01", 0.01}, {"q10", 0.10}, {"q50", 0.50}, {"q90", 0.90}, {"q99", 0.99}};
constexpr int kBins = 5000;

// One dimension of LeRobot's RunningQuantileStats after a single update: a 5000-bin
// histogram between min and max, quantiles interpolated inside the bin.
struct Column {
  double min = 0, max = 0, mean = 0, std = 0;
  std::vector<double> quantiles;
};

Column column_stats(const std::vector<double>& v) {
  Column c;
  const size_t n = v.size();
  c.min = *std::min_element(v.begin(), v.end());
  c.max = *std::max_element(v.begin(), v.end());
  double sum = 0, sq = 0;
  for (double x : v) { sum += x; sq += x * x; }
  c.mean = sum / n;
  if (n < 2) {  // _compute_basic_stats: quantiles are the mean
    c.std = 0;
    c.quantiles.assign(kQuantiles.size(), c.mean);
    return c;
  }
  c.std = std::sqrt(std::max(0.0, sq / n - c.mean * c.mean));
  const double lo = c.min - 1e-10, hi = c.max + 1e-10;
  std::vector<double> edges(kBins + 1);
  const double step = (hi - lo) / kBins;
  for (int i = 0; i <= kBins; ++i) edges[i] = lo + i * step;
  edges[kBins] = hi;
  std::vector<double> hist(kBins, 0.0);
  if (hi > lo) {
    for (double x : v) {
      auto idx = static_cast<int64_t>((x - lo) / (hi - lo) * kBins);
      idx = std::clamp<int64_t>(idx, 0, kBins - 1);
      if (x < edges[idx] && idx > 0) --idx;
      else if (idx + 1 < kBins && x >= edges[idx + 1]) ++idx;
      hist[idx] += 1;
    }
  } else {
    hist[0] = static_cast<double>(n);
  }
  std::vector<double> cumsum(kBins);
  double acc = 0;
  for (int i = 0; i < kBins; ++i) cumsum[i] = (acc += hist[i]);
  for (const auto& [name, q] : kQuantiles) {
    const double target = q * n;
    auto idx = std::lower_bound(cumsum.begin(), cumsum.end(), target) - cumsum.begin();
    double value;
    if (idx == 0) value = edges[0];
    else if (idx >= kBins) value = edges[kBins];
    else {
      double before = cumsum[idx - 1], in_bin = cumsum[idx] - before;
      value = in_bin == 0 ? edges[idx] : edges[idx] + (target - before) / in_bin * (edges[idx + 1] - edges[idx]);
    }
    c.quantiles.push_back(value);
  }
  return c;
}

FeatureStats assemble(const std::vector<Column>& cols, int64_t count, const std::vector<int64_t>& shape, double scale) {
  FeatureStats s;
  auto put = [&](const std::string& name, auto get) {
    std::vector<double> v;
    for (const auto& c : cols) v.push_back(get(c) * scale);
    s.values[name] = std::move(v);
    s.shapes[name] = shape;
  };
  put("min", [](const Column& c) { return c.min; });
  put("max", [](const Column& c) { return c.max; });
  put("mean", [](const Column& c) { return c.mean; });
  put("std", [](const Column& c) { return c.std; });
  s.values["count"] = {static_cast<double>(count)};
  s.shapes["count"] = {1};
  for (size_t q = 0; q < kQuantiles.size(); ++q) {
    std::vector<double> v;
    for (const auto& c : cols) v.push_back(c.quantiles[q] * scale);
    s.values[kQuantiles[q].first] = std::move(v);
    s.shapes[kQuantiles[q].first] = shape;
  }
  return s;
}

void nest(util::Json& out, const std::vector<double>& v, const std::vector<int64_t>& shape, size_t dim, size_t& pos,
          bool integer) {
  if (dim == shape.size()) {
    if (integer) out = static_cast<int64_t>(std::llround(v[pos++]));
    else out = v[pos++];
    return;
  }
  out = util::Json::array();
  for (int64_t i = 0; i < shape[dim]; ++i) {
    util::Json child;
    nest(child, v, shape, dim + 1, pos, integer);
    out.push_back(std::move(child));
  }
}

// Nested lists to values and a shape; false when ragged or holding anything but numbers/null.
bool flatten(const util::Json& j, std::vector<double>& v, std::vector<int64_t>& shape, size_t depth) {
  if (j.is_array()) {
    if (depth > 8) return false;
    if (shape.size() <= depth) {
      if (!v.empty()) return false;  // a list where a sibling held a number
      shape.push_back(static_cast<int64_t>(j.size()));
    }
    else if (shape[depth] != static_cast<int64_t>(j.size())) return false;
    for (const auto& x : j)
      if (!flatten(x, v, shape, depth + 1)) return false;
    return true;
  }
  if (depth != shape.size()) return false;  // a number beside a list
  if (j.is_number()) v.push_back(j.get<double>());
  else if (j.is_null()) v.push_back(std::nan(""));
  else return false;
  return true;
}

}  // namespace

int64_t estimate_num_samples(int64_t dataset_len, int64_t min_num_samples, int64_t max_num_samples, double power) {
  if (dataset_len < min_num_samples) min_num_samples = dataset_len;
  auto p = static_cast<int64_t>(std::pow(static_cast<double>(dataset_len), power));
  return std::max(min_num_samples, std::min(p, max_num_samples));
}

std::vector<int64_t> sample_indices(int64_t data_len) {
  int64_t n = estimate_num_samples(data_len);
  std::vector<int64_t> out;
  for (int64_t i = 0; i < n; ++i) {
    double x = n == 1 ? 0.0 : static_cast<double>(i) * (data_len - 1) / (n - 1);
    out.push_back(static_cast<int64_t>(std::nearbyint(x)));  // numpy rounds half to even
  }
  return out;
}

int downsample_factor(int height, int width) {
  if (std::max(width, height) < 300) return 1;
  return width > height ? width / 150 : height / 150;
}

FeatureStats compute_vector_stats(const std::vector<double>& values, int64_t rows, int64_t dim) {
  if (rows <= 0 || dim <= 0) throw util::RuntimeError("cannot compute statistics of an empty feature");
  std::vector<Column> cols;
  std::vector<double> col(rows);
  for (int64_t d = 0; d < dim; ++d) {
    for (int64_t r = 0; r < rows; ++r) col[r] = values[r * dim + d];
    cols.push_back(column_stats(col));
  }
  return assemble(cols, rows, {dim}, 1.0);
}

FeatureStats compute_image_stats(const std::vector<uint8_t>& chw, int64_t count, int channels, int64_t pixels) {
  if (count <= 0) throw util::RuntimeError("cannot compute camera statistics without frames");
  std::vector<Column> cols;
  std::vector<double> col(count * pixels);
  for (int c = 0; c < channels; ++c) {
    for (int64_t i = 0; i < count; ++i) {
      const uint8_t* src = chw.data() + (i * channels + c) * pixels;
      for (int64_t p = 0; p < pixels; ++p) col[i * pixels + p] = src[p];
    }
    cols.push_back(column_stats(col));
  }
  return assemble(cols, count, {channels, 1, 1}, 1.0 / 255.0);
}

FeatureStats aggregate_feature_stats(const std::vector<FeatureStats>& parts) {
  if (parts.empty()) return {};
  if (parts.size() == 1) return parts[0];
  FeatureStats out;
  const auto& first = parts[0];
  auto count_of = [](const FeatureStats& s) {
    auto it = s.values.find("count");
    return it == s.values.end() || it->second.empty() ? 0.0 : it->second[0];
  };
  double total = 0;
  for (const auto& p : parts) total += count_of(p);
  auto dims = first.values.count("mean") ? first.values.at("mean").size() : 0;
  std::vector<double> mean(dims, 0.0), var(dims, 0.0);
  for (const auto& p : parts) {
    const auto& m = p.values.at("mean");
    for (size_t d = 0; d < dims; ++d) mean[d] += m[d] * count_of(p) / total;
  }
  for (const auto& p : parts) {
    const auto& m = p.values.at("mean");
    const auto& s = p.values.at("std");
    for (size_t d = 0; d < dims; ++d) var[d] += (s[d] * s[d] + (m[d] - mean[d]) * (m[d] - mean[d])) * count_of(p) / total;
  }
  for (auto& v : var) v = std::sqrt(v);
  out.values["mean"] = mean;
  out.values["std"] = var;
  std::vector<double> mn = first.values.at("min"), mx = first.values.at("max");
  for (const auto& p : parts)
    for (size_t d = 0; d < dims; ++d) {
      mn[d] = std::min(mn[d], p.values.at("min")[d]);
      mx[d] = std::max(mx[d], p.values.at("max")[d]);
    }
  out.values["min"] = mn;
  out.values["max"] = mx;
  out.values["count"] = {total};
  for (const auto& [name, v] : first.values) {
    if (name.size() < 2 || name[0] != 'q') continue;
    bool all = std::all_of(parts.begin(), parts.end(), [&, &name = name](const FeatureStats& p) { return p.values.count(name) > 0; });
    if (!all) continue;
    std::vector<double> q(v.size(), 0.0);
    for (const auto& p : parts)
      for (size_t d = 0; d < q.size(); ++d) q[d] += p.values.at(name)[d] * count_of(p) / total;
    out.values[name] = q;
  }
  for (const auto& [name, v] : out.values) {
    auto it = first.shapes.find(name);
    out.shapes[name] = it != first.shapes.end() ? it->second : std::vector<int64_t>{static_cast<int64_t>(v.size())};
  }
  return out;
}

DatasetStats aggregate_stats(const std::vector<DatasetStats>& parts) {
  std::map<std::string, std::vector<FeatureStats>> by_key;
  for (const auto& p : parts)
    for (const auto& [k, s] : p) by_key[k].push_back(s);
  DatasetStats out;
  for (const auto& [k, list] : by_key) {
    // Aggregation indexes every part by the first one's size: they must all agree.
    if (list.size() > 1) {
      const auto& first = list.front().values;
      for (const char* stat : {"mean", "std", "min", "max"}) {
        auto f = first.find(stat);
        for (const auto& part : list) {
          auto it = part.values.find(stat);
          if (it == part.values.end() || f == first.end() || it->second.size() != f->second.size())
            throw util::InputError(util::cat("stats of '", shown(k), "' cannot be aggregated: '", stat,
                                             "' is missing or differs in size between episodes or datasets; recompute the stats"));
        }
      }
    }
    out[k] = aggregate_feature_stats(list);
  }
  return out;
}

util::Json stats_to_json(const DatasetStats& stats) {
  util::Json j = util::Json::object();
  for (const auto& [key, fs] : stats) {
    util::Json f = util::Json::object();
    for (const auto& [name, v] : fs.values) {
      auto it = fs.shapes.find(name);
      std::vector<int64_t> shape = it != fs.shapes.end() ? it->second : std::vector<int64_t>{static_cast<int64_t>(v.size())};
      int64_t n = 1;
      for (auto d : shape) n = d < 0 || n > (int64_t{1} << 40) ? -1 : n * d;
      if (n != static_cast<int64_t>(v.size())) shape = {static_cast<int64_t>(v.size())};  // nest() must not read past v
      size_t pos = 0;
      util::Json value;
      nest(value, v, shape, 0, pos, name == "count");
      f[name] = std::move(value);
    }
    j[key] = std::move(f);
  }
  return j;
}

DatasetStats stats_from_json(const util::Json& j, const std::string& where) {
  DatasetStats out;
  if (!j.is_object()) throw util::InputError(util::cat(where, ": a JSON ", j.type_name(), ", an object of features is expected"));
  for (const auto& [key, f] : j.items()) {
    if (!f.is_object())
      throw util::InputError(util::cat(where, ": '", shown(key), "' is a JSON ", f.type_name(), ", an object of statistics is expected"));
    FeatureStats fs;
    for (const auto& [name, value] : f.items()) {
      std::vector<double> v;
      std::vector<int64_t> shape;
      if (value.is_number()) {
        v.push_back(value.get<double>());
        shape = {1};
      } else if (!value.is_array() || !flatten(value, v, shape, 0)) {
        std::string text = value.dump();
        if (text.size() > 80) text = text.substr(0, 80) + "...";
        throw util::InputError(util::cat(where, ": '", shown(key), "' ", shown(name), " is ", shown(text),
                                         "; a number or a (nested, rectangular) list of numbers is expected"));
      }
      fs.values[name] = std::move(v);
      fs.shapes[name] = std::move(shape);
    }
    out[key] = std::move(fs);
  }
  return out;
}

}  // namespace robotrain::dataset
