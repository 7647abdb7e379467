#include "track/model_uri.h"

#include "track/file_store.h"
#include "track/local_registry.h"
#include "track/mlflow_client.h"
#include "track/tracking_uri.h"
#include "util/error.h"
#include "util/strings.h"

namespace robotrain::track {

namespace fs = std::filesystem;
using util::cat;
using util::InputError;

namespace {

const char* kAcceptedForms =
    "accepted: azureml:NAME:VERSION, azureml://…/models/NAME/versions/VERSION, "
    "https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX, models:/NAME/VERSION or a local directory";

bool name_char(char c, bool first) {
  if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') return true;
  return !first && (c == '.' || c == '-');
}

}  // namespace

void validate_register_name(const std::string& name, const std::string& flag) {
  auto fail = [&](const std::string& why) {
    return InputError(cat(flag, ": invalid model name '", name.size() > 60 ? name.substr(0, 60) + "…" : name, "' (", why,
                          "); use 1-255 characters of letters, digits, '_', '.', '-', starting with a letter, digit or "
                          "'_' (^[A-Za-z0-9_][A-Za-z0-9._-]{0,254}$)"));
  };
  if (name.empty()) throw fail("empty");
  if (name.size() > 255) throw fail(cat(name.size(), " characters, at most 255"));
  if (!name_char(name[0], true)) throw fail(cat("cannot start with '", name[0], "'"));
  for (char c : name)
    if (!name_char(c, false)) throw fail(cat("character '", c, "' not allowed"));
}

std::string azureml_model_name(const std::string& name) { return util::replace_all(name, "_", "-"); }

bool is_canonical_version(const std::string& v) {
  if (v.empty()) return false;
  if (v == "0") return true;
  if (v[0] < '1' || v[0] > '9') return false;
  for (char c : v)
    if (c < '0' || c > '9') return false;
  return true;
}

namespace {

// The one-line errors for a rejected warm-start value: what is wrong, then the accepted forms.
struct UriRejection {
  const std::string& uri;
  const std::string& flag;

  InputError operator()(const std::string& why) const {
    return InputError(cat(flag, ": '", uri, "' ", why, "; ", kAcceptedForms));
  }
  InputError bad_version(const std::string& v) const {
    return (*this)(cat("has version '", v,
                       "': use the numeric version without leading zeros (e.g. 3); 'latest', '@latest' and other "
                       "shorthands are rejected so runs stay reproducible"));
  }
};

// azureml://…/models/NAME/versions/VERSION or an azureml:/subscriptions/… ARM id.
void parse_azureml_model_uri(ModelSource& s, const UriRejection& fail) {
  const std::string& uri = s.uri;
  s.kind = ModelSourceKind::AzureMlUri;
  auto vpos = uri.rfind("/versions/");
  if (uri.find("/data/") != std::string::npos && uri.find("/models/") == std::string::npos)
    throw fail("is a data asset, not a model (use --dataset-asset for data)");
  if (vpos == std::string::npos) throw fail("has no /versions/VERSION");
  auto mpos = uri.rfind("/models/", vpos);
  if (mpos == std::string::npos) throw fail("has no /models/NAME");
  s.name = uri.substr(mpos + 8, vpos - mpos - 8);
  s.version = uri.substr(vpos + 10);
  if (s.name.empty() || s.name.find('/') != std::string::npos) throw fail("has an empty or malformed model name");
  if (!is_canonical_version(s.version)) throw fail.bad_version(s.version);
}

// azureml:NAME:VERSION
void parse_azureml_model_name(ModelSource& s, const UriRejection& fail) {
  s.kind = ModelSourceKind::AzureMlName;
  std::string rest = s.uri.substr(8);
  auto colon = rest.rfind(':');
  if (colon == std::string::npos)
    throw fail(rest.find('@') != std::string::npos ? "uses an @label; give an explicit version azureml:NAME:VERSION"
                                                   : "has no version; use azureml:NAME:VERSION");
  s.name = rest.substr(0, colon);
  s.version = rest.substr(colon + 1);
  if (s.name.empty()) throw fail("has an empty model name");
  if (s.name.find('@') != std::string::npos) throw fail.bad_version(s.name.substr(s.name.find('@')) + ":" + s.version);
  if (!is_canonical_version(s.version)) throw fail.bad_version(s.version);
  validate_register_name(s.name, fail.flag);
}

// models:/NAME/VERSION
void parse_mlflow_model_uri(ModelSource& s, const UriRejection& fail) {
  s.kind = ModelSourceKind::MlflowRegistry;
  std::string rest = s.uri.substr(7);
  if (!util::starts_with(rest, "/") || util::starts_with(rest, "//")) throw fail("must look like models:/NAME/VERSION");
  rest = rest.substr(1);
  auto slash = rest.rfind('/');
  if (slash == std::string::npos) {
    if (rest.find('@') != std::string::npos) throw fail("uses an alias; give an explicit version models:/NAME/VERSION");
    throw fail("has no version; use models:/NAME/VERSION");
  }
  s.name = rest.substr(0, slash);
  s.version = rest.substr(slash + 1);
  if (s.name.empty()) throw fail("has an empty model name");
  if (!is_canonical_version(s.version)) throw fail.bad_version(s.version);
  validate_register_name(s.name, fail.flag);
}

// The host must be ACCOUNT.blob.core.windows.net itself: no user info, port or other domain.
void check_blob_host(const std::string& host, const UriRejection& fail) {
  if (host.find('@') != std::string::npos) throw fail("contains user info");
  if (host.find(':') != std::string::npos) throw fail("has an explicit port");
  std::string lhost = util::to_lower(host);
  const std::string suffix = ".blob.core.windows.net";
  if (!util::ends_with(lhost, suffix) || lhost.size() == suffix.size() ||
      lhost.substr(0, lhost.size() - suffix.size()).find('.') != std::string::npos)
    throw fail("is not an Azure Blob URL (https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX)");
}

// https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX
void parse_blob_folder_url(ModelSource& s, const UriRejection& fail) {
  const std::string& uri = s.uri;
  s.kind = ModelSourceKind::HttpsFolder;
  if (uri.find('?') != std::string::npos)
    throw fail("has a query string (SAS tokens are not accepted: grant the identity Storage Blob Data Reader)");
  if (uri.find('#') != std::string::npos) throw fail("has a fragment");
  std::string rest = uri.substr(8);
  auto slash = rest.find('/');
  check_blob_host(slash == std::string::npos ? rest : rest.substr(0, slash), fail);
  std::string path = slash == std::string::npos ? "" : rest.substr(slash + 1);
  while (util::ends_with(path, "/")) path.pop_back();
  auto cslash = path.find('/');
  std::string container = cslash == std::string::npos ? path : path.substr(0, cslash);
  std::string prefix = cslash == std::string::npos ? "" : path.substr(cslash + 1);
  while (util::starts_with(prefix, "/")) prefix = prefix.substr(1);
  if (container.empty()) throw fail("has no container");
  if (prefix.empty()) throw fail("has no folder after the container");
}

}  // namespace

ModelSource parse_warm_start_uri(const std::string& uri, const std::string& flag) {
  const UriRejection fail{uri, flag};
  ModelSource s;
  s.uri = uri;
  if (uri.empty()) throw fail("is empty");
  for (char c : uri)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) throw fail("contains control characters");
  std::string lower = util::to_lower(uri);

  if (util::starts_with(lower, "azureml://") || util::starts_with(lower, "azureml:/")) {
    parse_azureml_model_uri(s, fail);
    return s;
  }
  if (util::starts_with(lower, "azureml:")) {
    parse_azureml_model_name(s, fail);
    return s;
  }
  if (util::starts_with(lower, "models:")) {
    parse_mlflow_model_uri(s, fail);
    return s;
  }
  if (util::starts_with(lower, "https://")) {
    parse_blob_folder_url(s, fail);
    return s;
  }
  if (util::starts_with(lower, "http://") || util::starts_with(lower, "wasbs://") || util::starts_with(lower, "abfss://") ||
      util::starts_with(lower, "wasb://"))
    throw fail("is not HTTPS (HTTPS only)");
  if (util::starts_with(lower, "file://")) {
    s.kind = ModelSourceKind::LocalPath;
    s.path = file_uri_to_path(uri);
    return s;
  }
  if (uri.find("://") != std::string::npos || util::starts_with(lower, "hf:") || util::starts_with(lower, "runs:"))
    throw fail("uses an unsupported scheme (use --policy-repo-id for Hugging Face repos)");
  s.kind = ModelSourceKind::LocalPath;
  s.path = fs::path(uri);
  return s;
}

std::map<std::string, std::string> warm_start_tags(const ModelSource& s) {
  std::map<std::string, std::string> tags{{"warm_start.source", s.uri}};
  if (!s.name.empty()) {
    tags["warm_start.model_name"] = s.name;
    tags["warm_start.model_version"] = s.version;
  }
  return tags;
}

void require_pretrained_model_dir(const fs::path& dir, const std::string& what) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw InputError(cat(what, ": ", dir.string(), " is not a directory"));
  for (const char* f : {"config.json", "model.safetensors"})
    if (!fs::is_regular_file(dir / f, ec))
      throw InputError(cat(what, ": ", dir.string(), " has no ", f,
                           " (expected a LeRobot pretrained_model directory with config.json and model.safetensors)"));
}

fs::path resolve_warm_start(const ModelSource& s, const ResolveOptions& options) {
  const std::string what = cat("--init-from-policy-model ", s.uri);
  switch (s.kind) {
    case ModelSourceKind::LocalPath: {
      fs::path dir = s.path;
      std::error_code ec;
      if (!fs::exists(dir / "model.safetensors", ec) && fs::exists(dir / "pretrained_model" / "model.safetensors", ec))
        dir /= "pretrained_model";
      require_pretrained_model_dir(dir, what);
      return fs::absolute(dir);
    }
    case ModelSourceKind::MlflowRegistry: {
      auto target = parse_tracking_uri(options.tracking_uri);
      if (target.kind == TrackingKind::File) {
        LocalRegistry registry(target.root);
        fs::path dir = registry.model_dir(s.name, s.version);
        require_pretrained_model_dir(dir, what);
        return dir;
      }
      MlflowClient client(target, options.access_token);
      client.set_budget_s(interactive_budget_s());
      std::string source = client.get_model_version_download_uri(s.name, s.version);
      fs::path dest = (options.download_dir.empty() ? fs::current_path() / ".robotrain" / "models" : options.download_dir) /
                      cat(s.name, "-", s.version);
      fs::remove_all(dest);
      client.download_artifacts(source, dest);
      fs::path dir = dest;
      if (!fs::exists(dir / "model.safetensors") && fs::exists(dir / "pretrained_model" / "model.safetensors"))
        dir /= "pretrained_model";
      require_pretrained_model_dir(dir, what);
      return dir;
    }
    default:
      if (!options.remote)
        throw util::RuntimeError(cat(what, ": downloading Azure ML / blob models needs the storage integration; ",
                                     "run through `robotrain train` or `robotrain model download`"));
      {
        fs::path dir = options.remote(s, options.download_dir);
        if (!fs::exists(dir / "model.safetensors") && fs::exists(dir / "pretrained_model" / "model.safetensors"))
          dir /= "pretrained_model";
        require_pretrained_model_dir(dir, what);
        return dir;
      }
  }
}

}  // namespace robotrain::track
