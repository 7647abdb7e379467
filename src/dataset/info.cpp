#include "dataset/info.h"

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
    if (close == std::string::npos) throw util::InputError(cat("path template '", tmpl, "': unclosed '{'"));
    std::string field = tmpl.substr(i + 1, close - i - 1);
    std::string spec;
    if (auto colon = field.find(':'); colon != std::string::npos) {
      spec = field.substr(colon + 1);
      field = field.substr(0, colon);
    }
    auto it = values.find(field);
    if (it == values.end())
      throw util::InputError(cat("path template '", tmpl, "': unknown field '{", field, "}'; fix meta/info.json"));
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
        if (!s.empty() && !util::parse_int64(s, w))
          throw util::InputError(cat("path template '", tmpl, "': unsupported format '", spec, "'"));
        width = static_cast<size_t>(w);
        size_t sign = v < 0 ? 1 : 0;
        if (digits.size() + sign < width) digits.insert(0, width - digits.size() - sign, zero ? '0' : ' ');
      }
      out += (v < 0 ? "-" : "") + digits;
    }
    i = close;
  }
  return out;
}

std::vector<Feature> parse_features(const util::Json& features, std::vector<std::string>& warnings) {
  std::vector<Feature> out;
  if (!features.is_object()) throw util::RuntimeError("meta/info.json: \"features\" is missing or not an object");
  for (const auto& [key, ft] : features.items()) {
    if (!ft.is_object()) throw util::RuntimeError(cat("meta/info.json: feature '", key, "' is not an object"));
    Feature f;
    f.key = key;
    f.dtype = ft.value("dtype", std::string());
    if (f.dtype.empty()) throw util::RuntimeError(cat("meta/info.json: feature '", key, "' has no dtype"));
    if (ft.contains("shape") && ft["shape"].is_array()) {
      for (const auto& d : ft["shape"]) f.shape.push_back(d.get<int64_t>());
    }
    f.names = ft.contains("names") ? ft["names"] : util::Json();
    if (ft.contains("info")) f.info = ft["info"];
    else if (ft.contains("video_info")) f.info = ft["video_info"];  // v2.0 spelling
    if (f.is_visual() && f.shape.size() != 3)
      throw util::RuntimeError(cat("meta/info.json: camera '", key, "' must have a 3-D shape"));
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
