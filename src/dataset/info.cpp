#include "dataset/info.h"

#include <cctype>

#include "dataset/untrusted.h"
#include "util/error.h"
#include "util/strings.h"

namespace robotrain::dataset {

using util::cat;

std::string format_path_template(const std::string& tmpl, const std::map<std::string, TemplateValue>& values) {
  std::string out;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    char c = tmpl[i];
    if (c == '{' && i + 1 < tmpl.size() && tmpl[i + 1] == '{') { out += '{'; ++i; continue; }
    if (c == '}' && i + 1 < tmpl.size() && tmpl[i + 1] == '}') { out += '}'; ++i; continue; }
    if (c != '{') { out += c; continue; }
    size_t close = tmpl.find('}', i);
    if (close == std::string::npos) throw util::InputError(cat("path template '", shown(tmpl), "': unclosed '{'"));
    std::string field = tmpl.substr(i + 1, close - i - 1);
    std::string spec;
    if (auto colon = field.find(':'); colon != std::string::npos) {
      spec = field.substr(colon + 1);
      field = field.substr(0, colon);
    }
    auto it = values.find(field);
    if (it == values.end())
      throw util::InputError(cat("path template '", shown(tmpl), "': unknown field '{", shown(field), "}'; fix meta/info.json"));
    if (std::holds_alternative<std::string>(it->second)) {
      out += std::get<std::string>(it->second);
    } else {
      int64_t v = std::get<int64_t>(it->second);
      std::string digits = std::to_string(v < 0 ? -v : v);
      size_t width = 0;
      if (!spec.empty()) {
        // Supported: "d", "Nd", "0Nd" (the forms LeRobot uses).
        std::string s = spec;
        if (s.back() == 'd') s.pop_back();
        bool zero = !s.empty() && s[0] == '0';
        int64_t w = 0;
        if (!s.empty() && (!std::isdigit(static_cast<unsigned char>(s[0])) || !util::parse_int64(s, w)))
          throw util::InputError(cat("path template '", shown(tmpl), "': unsupported format '", shown(spec), "'"));
        // The width comes from info.json: bound it before it sizes a string.
        if (w > kMaxTemplateWidth)
          throw util::InputError(cat("path template '", shown(tmpl), "': width ", shown(spec), " is more than ",
                                     kMaxTemplateWidth, " digits; fix meta/info.json"));
        width = static_cast<size_t>(w);
        size_t sign = v < 0 ? 1 : 0;
        if (digits.size() + sign < width) digits.insert(0, width - digits.size() - sign, zero ? '0' : ' ');
      }
      out += (v < 0 ? "-" : "") + digits;
    }
    i = close;
  }
  if (out.size() > kMaxPathLength)
    throw util::InputError(cat("path template '", shown(tmpl), "' expands to more than ", kMaxPathLength, " characters"));
  return out;
}

namespace {

// info.json shape: a list of positive integers, each at most kMaxFeatureDim; values per frame
// of a non-camera feature at most kMaxFeatureValues (the policy sizes layers from them).
std::vector<int64_t> parse_shape(const std::string& key, const util::Json& ft, const std::string& dtype) {
  auto bad = [&](const std::string& why) {
    return util::InputError(cat("meta/info.json: feature '", shown(key), "' shape ", why, "; fix meta/info.json"));
  };
  std::vector<int64_t> shape;
  const bool text = dtype == "string" || dtype == "language";
  if (!ft.contains("shape") || ft["shape"].is_null()) {
    if (text) return shape;
    throw bad("is missing");
  }
  const auto& s = ft["shape"];
  if (!s.is_array()) throw bad(cat("is a JSON ", s.type_name(), ", a list of sizes is expected"));
  if (s.size() > 8) throw bad(cat("has ", s.size(), " dimensions"));
  int64_t values = 1;
  for (const auto& d : s) {
    if (!d.is_number_integer()) throw bad(cat(shown(s.dump()), " holds a ", d.type_name(), ", sizes are integers"));
    const int64_t v = d.is_number_unsigned() && d.get<uint64_t>() > static_cast<uint64_t>(kMaxFeatureDim) ? kMaxFeatureDim + 1
                                                                                                       : d.get<int64_t>();
    if (v < 1) throw bad(cat(shown(s.dump()), " holds ", v, "; sizes must be >= 1"));
    if (v > kMaxFeatureDim) throw bad(cat(shown(s.dump()), " holds a size above ", kMaxFeatureDim));
    shape.push_back(v);
    values *= v;
  }
  if (shape.empty() && !text) throw bad("is empty; a scalar feature has shape [1]");
  const bool visual = dtype == "video" || dtype == "image";
  if (!visual && values > kMaxFeatureValues)
    throw bad(cat(shown(s.dump()), " holds ", values, " values per frame, more than ", kMaxFeatureValues));
  return shape;
}

}  // namespace

std::vector<Feature> parse_features(const util::Json& features, std::vector<std::string>& warnings) {
  std::vector<Feature> out;
  if (!features.is_object())
    throw util::InputError(cat("meta/info.json: \"features\" is ", features.is_null() ? "missing" : cat("a JSON ", features.type_name()),
                               ", an object of features is expected"));
  for (const auto& [key, ft] : features.items()) {
    check_feature_key(key);
    if (!ft.is_object())
      throw util::InputError(cat("meta/info.json: feature '", shown(key), "' is a JSON ", ft.type_name(), ", not an object"));
    Feature f;
    f.key = key;
    if (!ft.contains("dtype") || !ft["dtype"].is_string() || ft["dtype"].get<std::string>().empty())
      throw util::InputError(cat("meta/info.json: feature '", shown(key), "' dtype is ",
                                 ft.contains("dtype") ? shown(ft["dtype"].dump()) : std::string("missing"),
                                 "; a dtype name such as \"float32\" or \"video\" is expected"));
    f.dtype = ft["dtype"].get<std::string>();
    f.shape = parse_shape(key, ft, f.dtype);
    f.names = ft.contains("names") ? ft["names"] : util::Json();
    if (ft.contains("info")) f.info = ft["info"];
    else if (ft.contains("video_info")) f.info = ft["video_info"];  // v2.0 spelling
    if (f.is_visual() && f.shape.size() != 3)
      throw util::InputError(cat("meta/info.json: camera '", shown(key), "' must have a 3-D shape ([height, width, channels])"));
    if (!f.names.is_null() && !f.names.is_array())
      warnings.push_back(cat("feature '", key, "': names is a ", f.names.type_name(), ", not a list"));
    else if (f.names.is_array() && !f.names.empty() && f.names[0].is_array())
      warnings.push_back(cat("feature '", key, "': names is a nested list"));
    if (!f.is_visual() && !is_default_feature(key) && !util::starts_with(key, "observation.") &&
        !util::starts_with(key, "action") && !util::starts_with(key, "next.") && f.dtype != "string")
      warnings.push_back(cat("feature '", key, "' is not prefixed 'observation.'; used as ", feature_role_name(feature_role(f))));
    out.push_back(std::move(f));
  }
  return out;
}

util::Json feature_to_json(const Feature& f) {
  util::Json j;
  j["dtype"] = f.dtype;
  j["shape"] = f.shape;
  j["names"] = f.names;
  if (!f.info.is_null()) j["info"] = f.info;
  return j;
}

const char* feature_role_name(FeatureRole r) {
  switch (r) {
    case FeatureRole::Visual: return "visual";
    case FeatureRole::State: return "state";
    case FeatureRole::Env: return "env";
    case FeatureRole::Action: return "action";
    default: return "other";
  }
}

FeatureRole feature_role(const Feature& f) {
  if (f.is_visual()) return FeatureRole::Visual;
  if (f.dtype == "string") return FeatureRole::Other;
  if (f.key == "observation.environment_state") return FeatureRole::Env;
  if (util::starts_with(f.key, "observation.language")) return FeatureRole::Other;
  if (util::starts_with(f.key, "observation")) return FeatureRole::State;
  if (f.key == "state") return FeatureRole::State;
  if (util::starts_with(f.key, "action")) return FeatureRole::Action;
  return FeatureRole::Other;
}

static bool is_channel_name(const util::Json& n) {
  return n.is_string() && (n.get<std::string>() == "channel" || n.get<std::string>() == "channels" || n.get<std::string>() == "c");
}

std::vector<int64_t> camera_chw(const Feature& f) {
  if (f.shape.size() != 3) return f.shape;
  const auto& s = f.shape;
  if (f.names.is_array() && f.names.size() == 3) {
    if (is_channel_name(f.names[0])) return {s[0], s[1], s[2]};
    if (is_channel_name(f.names[2])) return {s[2], s[0], s[1]};
  }
  // No usable names: a leading 1/3/4 is a channel count, otherwise HWC.
  if ((s[0] == 1 || s[0] == 3 || s[0] == 4) && s[2] > 4) return {s[0], s[1], s[2]};
  return {s[2], s[0], s[1]};
}

std::string video_size_mismatch(const Feature& f, int width, int height) {
  const std::vector<int64_t> chw = camera_chw(f);
  if (chw.size() != 3 || (height == chw[1] && width == chw[2])) return "";
  return util::cat("the video is ", width, "x", height, " pixels (width x height) but meta/info.json declares ", chw[2], "x",
                   chw[1], " for '", f.key, "'");
}

static void collect_names(const util::Json& j, std::vector<std::string>& out) {
  if (j.is_string()) out.push_back(j.get<std::string>());
  else if (j.is_array() || j.is_object())
    for (const auto& v : j) collect_names(v, out);
}

std::vector<std::string> flat_names(const Feature& f) {
  std::vector<std::string> out;
  collect_names(f.names, out);
  return out;
}

std::string feature_codec(const Feature& f) {
  if (f.info.is_object()) {
    if (f.info.contains("video.codec") && f.info["video.codec"].is_string()) return f.info["video.codec"];
    if (f.info.contains("codec") && f.info["codec"].is_string()) return f.info["codec"];
  }
  return "";
}

bool is_default_feature(const std::string& key) {
  return key == "timestamp" || key == "frame_index" || key == "episode_index" || key == "index" || key == "task_index";
}

}  // namespace robotrain::dataset
