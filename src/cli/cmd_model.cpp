// `robotrain model list|show|download`: the model registry next to the tracking destination
// (local store's registry, or the MLflow server's).
#include <iostream>
#include <memory>

#include "cli/browse_flags.h"
#include "cli/command.h"
#include "track/model_uri.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strings.h"

namespace robotrain::cli {
namespace {

struct ModelFlags : BrowseFlags {
  std::string name;
  std::string output;
};

void list_models(const ModelFlags& f) {
  auto b = f.browser();
  auto models = b.models();
  if (f.json) {
    util::Json arr = util::Json::array();
    for (auto& m : models)
      arr.push_back({{"name", m.name},
                     {"latest_version", m.latest_versions.empty() ? util::Json() : util::Json(m.latest_versions.back().version)},
                     {"description", m.description}});
    std::cout << arr.dump(2) << "\n";
    return;
  }
  if (models.empty()) {
    std::cout << "no registered models in " << b.uri() << "\n";
    return;
  }
  std::printf("%-40s %s\n", "NAME", "LATEST");
  for (auto& m : models)
    std::printf("%-40s %s\n", m.name.c_str(), m.latest_versions.empty() ? "-" : ("models:/" + m.name + "/" + m.latest_versions.back().version).c_str());
}

void show_model(const ModelFlags& f) {
  auto versions = f.browser().versions(f.name);
  if (f.json) {
    util::Json arr = util::Json::array();
    for (auto& v : versions) arr.push_back(track::to_json(v));
    std::cout << util::Json{{"name", f.name}, {"versions", arr}}.dump(2) << "\n";
    return;
  }
  for (auto& v : versions) {
    std::cout << "models:/" << v.name << "/" << v.version << "  " << v.status << "  run " << (v.run_id.empty() ? "-" : v.run_id)
              << "\n  source: " << v.source << "\n";
    if (!v.description.empty()) std::cout << "  description: " << util::replace_all(v.description, "\n", "; ") << "\n";
    for (auto& [k, val] : v.tags) std::cout << "  " << k << " = " << val << "\n";
  }
}

void download_model(const ModelFlags& f) {
  // NAME/VERSION or models:/NAME/VERSION.
  std::string spec = util::starts_with(f.name, "models:/") ? f.name : "models:/" + f.name;
  auto src = track::parse_warm_start_uri(spec, "model download");
  if (f.output.empty()) throw util::InputError("model download: --output DIR is required");
  f.browser().download_model(src.name, src.version, f.output);
  if (f.json) {
    std::cout << util::Json{{"model", spec}, {"output", f.output}}.dump(2) << "\n";
    return;
  }
  std::cout << "downloaded " << spec << " to " << f.output << "\n";
}

CommandRegistrar reg(61, [](CLI::App& root) {
  auto& model = group(root, "model",
                      browse_group_help("Registered models (local store or MLflow registry)",
                                        "a malformed name or URI, an unknown model or version"));
  {
    auto f = std::make_shared<ModelFlags>();
    auto* c = model.add_subcommand("list", "List registered models");
    f->add_to(c);
    c->callback([f] { list_models(*f); });
  }
  {
    auto f = std::make_shared<ModelFlags>();
    auto* c = model.add_subcommand("show", "Show a model's versions and lineage tags");
    f->add_to(c);
    c->add_option("name", f->name, "Registered model name (an unknown name exits 2)")->required();
    c->callback([f] { show_model(*f); });
  }
  {
    auto f = std::make_shared<ModelFlags>();
    auto* c = model.add_subcommand("download", "Copy a registered version's weights to a directory");
    f->add_to(c);
    c->add_option("model", f->name, "NAME/VERSION or models:/NAME/VERSION")->required();
    c->add_option("--output,-o", f->output, "Destination directory (created)")->required();
    c->callback([f] { download_model(*f); });
  }
});

}  // namespace
}  // namespace robotrain::cli
