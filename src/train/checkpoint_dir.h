#pragma once
// Where checkpoints live and how they are put there (LeRobot's train_utils layout):
//   <output_dir>/checkpoints/<step>/{pretrained_model,training_state}/
//   <output_dir>/checkpoints/last -> <step>   (relative link)
// A checkpoint is written under a hidden staging name and renamed into place, then `last` is
// repointed by renaming a fresh link over it, so a killed run never leaves `last` pointing at
// a half-written directory.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace robotrain::train {

namespace fs = std::filesystem;

// Zero-padded to max(6, digits of total_steps): step 500 of 20000 -> "000500".
std::string step_identifier(int64_t step, int64_t total_steps);
fs::path checkpoints_root(const fs::path& output_dir);
fs::path step_checkpoint_dir(const fs::path& output_dir, int64_t total_steps, int64_t step);

// True when `dir` holds everything a resume needs (weights, configs, training state).
bool is_complete_checkpoint(const fs::path& dir);

// Populates a staging directory with `write`, moves it to `final_dir`, repoints `last`.
// Leftover staging directories of killed runs are removed first.
void write_checkpoint(const fs::path& final_dir, const std::function<void(const fs::path& staging)>& write);

// The directory `checkpoints/last` resolves to; nullopt when there is none. RuntimeError when
// it dangles or points at an incomplete checkpoint.
std::optional<fs::path> last_checkpoint(const fs::path& output_dir);

// The checkpoint a resume continues from: `step_dir` (a checkpoints/<step> directory, as
// LeRobot's --config_path names one) when given, else the run's checkpoints/last. InputError
// when that is not a complete checkpoint or the run has none.
fs::path checkpoint_to_resume(const fs::path& output_dir, const fs::path& step_dir = {});

// Removes hidden staging directories (".<step>.tmp-*") a killed run left behind.
void remove_stale_staging(const fs::path& checkpoints_dir);

}  // namespace robotrain::train
