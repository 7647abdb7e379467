// `robotrain sim record pusht`: scripted-expert demonstrations as a LeRobot v3.0 dataset.
#include <iostream>
#include <memory>

#include "cli/command.h"
#include "dataset/synth.h"
#include "eval/sim/pusht_record.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"

namespace robotrain::cli {
namespace {

CommandRegistrar reg(45, [](CLI::App& root) {
  auto& sim = group(root, "sim", "Simulated environments (Push-T)");
  auto* rec = sim.add_subcommand("record", "Record scripted-expert demonstrations as a LeRobot dataset");
  rec->require_subcommand(1);
  auto* pusht = rec->add_subcommand("pusht", "Push-T demonstrations (96x96 video + agent position, 10 fps)");
  auto o = std::make_shared<eval::RecordOptions>();
  auto out = std::make_shared<std::string>();
  auto all = std::make_shared<bool>(false);
  pusht->add_option("--output,-o", *out, "Dataset directory to create")->required();
  pusht->add_option("--episodes", o->episodes, "Episodes to record")->capture_default_str();  // range: the callback
  pusht->add_option("--seed", o->seed, "First episode seed")->capture_default_str()->transform(int_in(0, 4294967295));
  pusht->add_flag("--all-episodes", *all, "Keep episodes the expert did not solve too");
  pusht->add_flag("--overwrite", o->overwrite, "Replace an existing directory");
  pusht->add_option("--codec", o->codec, "Video encoder (libsvtav1 as LeRobot, libx264, mpeg4)")->capture_default_str();
  pusht->add_option("--obs-type", o->obs_type,
                    "pixels_agent_pos (96x96 video + agent position) or environment_state_agent_pos (block pose + agent position)")
      ->capture_default_str();
  pusht->callback([o, out, all] {
    o->only_success = !*all;
    if (out->empty()) throw util::InputError("--output is empty; name the dataset directory to create");
    if (o->episodes < 1 || o->episodes > 100000)
      throw util::InputError(util::cat("--episodes ", o->episodes, " is out of range: use 1..100000"));
    o->codec = dataset::synth_encoder_for(o->codec);  // InputError for an unknown codec, before any work
    eval::validate_obs_type(o->obs_type);
    auto s = eval::record_pusht(*out, *o, [](const std::string& line) { util::log_info(line); });
    std::cout << "recorded " << s.episodes_written << " episodes (" << s.frames << " frames) from " << s.attempts << " attempts ("
              << s.successes << " solved) into " << *out << "\n";
  });
});

}  // namespace
}  // namespace robotrain::cli
