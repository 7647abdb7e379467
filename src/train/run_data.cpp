// The data stage of setup_run: the held-out episodes, the training and validation datasets,
// the loader (at the resumed point of its epoch) and the hand-over to the device.
#include "dataset/loader.h"
#include "dataset/val_split.h"
#include "train/device_feeder.h"
#include "train/image_transforms.h"
#include "train/training_run.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"

namespace robotrain::train {

// The held-out split is fixed when the run starts; a resumed run keeps the recorded one.
void hold_out_validation_episodes(TrainingRun& r) {
  TrainConfig& cfg = r.cfg;
  if (r.resume_from) {
    if (!cfg.val_episodes.empty() && cfg.dataset.episodes)
      cfg.dataset.episodes = dataset::without_episodes(*cfg.dataset.episodes, cfg.val_episodes);
    return;
  }
  std::vector<int64_t> all = cfg.dataset.episodes.value_or(std::vector<int64_t>{});
  if (!cfg.dataset.episodes)
    for (const auto& e : r.meta.episodes) all.push_back(e.index);
  cfg.val_episodes = dataset::choose_val_episodes(all, cfg.val_split, static_cast<uint64_t>(cfg.seed));
  if (!cfg.val_episodes.empty()) cfg.dataset.episodes = dataset::without_episodes(all, cfg.val_episodes);
  if (cfg.val_split > 0 && cfg.val_episodes.empty())
    util::log_warn("--val-split ", cfg.val_split, ": the dataset has a single episode; nothing is held out");
}

// Datasets with the frames the policy needs around each anchor; cameras stay uint8 until
// they reach the device. Each rank draws its own disjoint shard of every epoch's permutation.
void open_training_data(TrainingRun& r) {
  const TrainConfig& cfg = r.cfg;
  dataset::DatasetOptions ds_opts;
  ds_opts.episodes = cfg.dataset.episodes;
  ds_opts.delta_indices = r.policy->delta_indices();
  ds_opts.tolerance_s = cfg.tolerance_s;
  ds_opts.images_as_uint8 = true;
  r.train_data = std::make_unique<dataset::LeRobotDataset>(cfg.dataset.root, ds_opts);
  for (auto e : r.train_data->episodes_skipped()) util::log_warn("episode ", e, " skipped (missing video)");
  if (r.train_data->num_frames() <= 0) throw util::InputError(util::cat(cfg.dataset.root, ": no frames to train on"));
  if (!cfg.val_episodes.empty() && r.primary()) {
    dataset::DatasetOptions vo = ds_opts;
    vo.episodes = cfg.val_episodes;
    r.val_data = std::make_unique<dataset::LeRobotDataset>(cfg.dataset.root, vo);
    util::log_info("validation: ", cfg.val_episodes.size(), " held-out episodes ", util::Json(cfg.val_episodes).dump(),
                   " (", r.val_data->num_frames(), " frames), val/loss every ", cfg.eval_freq, " steps");
  }

  dataset::SamplerOptions sampler{static_cast<uint64_t>(cfg.seed), true, r.policy->drop_n_last_frames(), r.rank(),
                                  r.world_size()};
  dataset::LoaderOptions loader_opts;
  loader_opts.batch_size = cfg.batch_size;
  loader_opts.num_workers = cfg.num_workers;
  loader_opts.prefetch_batches = std::max(2, cfg.num_workers);
  r.loader = std::make_unique<dataset::DataLoader>(*r.train_data, sampler, loader_opts);
  if (r.step > 0) {
    // samples_consumed counts all ranks: a run resumed with another world size continues at
    // the same point of the epoch.
    const int64_t saved_world = r.resumed_state.value("world_size", int64_t{1});
    const int64_t consumed = r.resumed_state.value("samples_consumed", r.step * cfg.batch_size * saved_world);
    r.loader->seek(consumed / r.world_size());
  }

  r.transforms = std::make_unique<ImageTransforms>(cfg.dataset.image_transforms);
  r.adapter.device = r.device;
  r.adapter.camera_keys = r.meta.camera_keys();
  r.adapter.transforms = r.transforms.get();
  // On CUDA, batch N+1's copy to the device overlaps step N (a side stream).
  r.feeder = std::make_unique<DeviceFeeder>(*r.loader, r.adapter);
}

}  // namespace robotrain::train
