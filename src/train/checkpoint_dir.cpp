#include "train/checkpoint_dir.h"

#include <cstdio>

#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strings.h"

namespace robotrain::train {

std::string step_identifier(int64_t step, int64_t total_steps) {
  int digits = std::max<int>(6, static_cast<int>(std::to_string(total_steps).size()));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*lld", digits, static_cast<long long>(step));
  return buf;
}

fs::path checkpoints_root(const fs::path& output_dir) { return output_dir / "checkpoints"; }

fs::path step_checkpoint_dir(const fs::path& output_dir, int64_t total_steps, int64_t step) {
  return checkpoints_root(output_dir) / step_identifier(step, total_steps);
}

bool is_complete_checkpoint(const fs::path& dir) {
  for (const char* f : {"pretrained_model/config.json", "pretrained_model/model.safetensors",
                        "pretrained_model/train_config.json", "training_state/training_step.json",
                        "training_state/optimizer_state.safetensors", "training_state/optimizer_param_groups.json",
                        "training_state/rng_state.safetensors"}) {
    if (!fs::is_regular_file(dir / f)) return false;
  }
  return true;
}

void remove_stale_staging(const fs::path& checkpoints_dir) {
  std::error_code ec;
  if (!fs::is_directory(checkpoints_dir, ec)) return;
  for (const auto& entry : fs::directory_iterator(checkpoints_dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.size() > 1 && name[0] == '.' && name.find(".tmp-") != std::string::npos) {
      util::log_info("removing staging leftover of an interrupted checkpoint: ", entry.path().string());
      fs::remove_all(entry.path(), ec);
    }
  }
}

void write_checkpoint(const fs::path& final_dir, const std::function<void(const fs::path& staging)>& write) {
  fs::path root = final_dir.parent_path();
  fs::create_directories(root);
  remove_stale_staging(root);
  {
    util::StagedDir staged(final_dir);
    write(staged.path());
    // The step directory may exist when a run is resumed from an older checkpoint and
    // passes the same step again: the new one replaces it.
    staged.commit(/*replace_existing=*/true);
  }
  util::atomic_symlink(final_dir.filename(), root / "last");
}

std::optional<fs::path> last_checkpoint(const fs::path& output_dir) {
  fs::path link = checkpoints_root(output_dir) / "last";
  std::error_code ec;
  if (!fs::is_symlink(link, ec) && !fs::exists(link, ec)) return std::nullopt;
  fs::path target = fs::is_symlink(link) ? fs::read_symlink(link) : link;
  fs::path resolved = target.is_absolute() ? target : link.parent_path() / target;
  if (!fs::is_directory(resolved, ec))
    throw util::RuntimeError(util::cat(link.string(), " points to ", target.string(),
                                       " which does not exist; repoint it at a complete checkpoint directory"));
  if (!is_complete_checkpoint(resolved))
    throw util::RuntimeError(util::cat(resolved.string(),
                                       ": incomplete checkpoint (missing pretrained_model/ or training_state/ files); "
                                       "repoint checkpoints/last at an earlier step"));
  return resolved;
}

fs::path checkpoint_to_resume(const fs::path& output_dir, const fs::path& step_dir) {
  if (!step_dir.empty()) {
    if (!is_complete_checkpoint(step_dir))
      throw util::InputError(util::cat(step_dir.string(), ": not a complete checkpoint (pretrained_model/ and ",
                                       "training_state/); give a checkpoints/<step>/pretrained_model/train_config.json"));
    return step_dir;
  }
  auto last = last_checkpoint(output_dir);
  if (!last)
    throw util::InputError(util::cat(output_dir.string(), " has no checkpoints/last to resume from; ",
                                     "start a new run without --resume"));
  return *last;
}

}  // namespace robotrain::train
