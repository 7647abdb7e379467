// `robotrain dataset merge SRC... --output DST` and `robotrain dataset convert SRC --output DST`.
#include <iostream>

#include "cli/command.h"
#include "dataset/convert.h"
#include "dataset/merge.h"
#include "util/json.h"

namespace robotrain::cli {
namespace {

void add_merge(CLI::App& group) {
  auto* cmd = group.add_subcommand("merge", "Merge LeRobot datasets (v2.1 or v3.0) into one v3.0 dataset");
  cmd->footer(
      "Sources must share fps, robot_type and features (dtype, shape, names, video info); the first\n"
      "difference is reported. Tasks are unioned by string, episodes/frames/tasks renumbered, videos\n"
      "copied, stats aggregated; bool features become float32 unless --keep-bool.\n"
      "Example: robotrain dataset merge data/a data/b --output data/ab");
  auto sources = std::make_shared<std::vector<std::string>>();
  auto output = std::make_shared<std::string>();
  auto o = std::make_shared<dataset::MergeOptions>();
  auto keep_bool = std::make_shared<bool>(false);
  auto json = std::make_shared<bool>(false);
  cmd->add_option("sources", *sources, "Source dataset roots (folders holding meta/), in merge order")->required();
  cmd->add_option("--output,-o", *output, "Directory to create (must not exist unless --overwrite)")->required();
  cmd->add_option("--repo-id,--repo_id", o->repo_id, "Name reported for the merged dataset (default: the output folder name)");
  cmd->add_flag("--overwrite", o->overwrite, "Replace an existing output directory");
  cmd->add_flag("--keep-bool", *keep_bool, "Keep bool features as bool instead of casting them to float32");
  cmd->add_flag("--json", *json, "Print the result as JSON");
  cmd->callback([=] {
    dataset::MergeOptions opt = *o;
    opt.cast_bool_to_float = !*keep_bool;
    opt.progress = !*json;
    std::vector<std::filesystem::path> paths(sources->begin(), sources->end());
    auto r = dataset::merge_datasets(paths, *output, opt);
    if (*json) {
      std::cout << util::Json{{"output", r.output.string()},
                              {"repo_id", r.repo_id},
                              {"sources", *sources},
                              {"episodes", r.episodes},
                              {"frames", r.frames},
                              {"tasks", r.tasks}}
                       .dump(2)
                << "\n";
    } else {
      std::cout << "merged " << sources->size() << " dataset(s) into " << r.output.string() << ": " << r.episodes
                << " episodes, " << r.frames << " frames, " << r.tasks << " task(s)\n";
    }
  });
}

void add_convert(CLI::App& group) {
  auto* cmd = group.add_subcommand("convert", "Convert a LeRobot v2.1 dataset to v3.0");
  cmd->footer("Example: robotrain dataset convert data/old_v21 --output data/new_v30");
  auto source = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>();
  auto overwrite = std::make_shared<bool>(false);
  cmd->add_option("source", *source, "v2.1 dataset root (the folder holding meta/)")->required();
  cmd->add_option("--output,-o", *output, "Directory to create (must not exist unless --overwrite)")->required();
  cmd->add_flag("--overwrite", *overwrite, "Replace an existing output directory");
  cmd->callback([=] {
    dataset::convert_v21_to_v30(*source, *output, *overwrite);
    auto meta = dataset::load_metadata(*output);
    std::cout << "converted " << *source << " to v3.0 at " << meta.root.string() << ": " << meta.total_episodes
              << " episodes, " << meta.total_frames << " frames\n";
  });
}

CommandRegistrar reg(11, [](CLI::App& root) {
  auto& g = group(root, "dataset", "Inspect, validate, generate and time LeRobot datasets");
  add_merge(g);
  add_convert(g);
});

}  // namespace
}  // namespace robotrain::cli
