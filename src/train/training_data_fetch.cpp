#include "train/training_data_fetch.h"

#include <unistd.h>

#include <chrono>
#include <thread>

#include "train/dist_env.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strings.h"

namespace robotrain::train {

namespace fs = std::filesystem;

namespace {

// The marker names this launch (rendezvous address and port, and the launcher process all
// local workers share: ours, torchrun's agent or mpirun's daemon) so a marker from an earlier
// job is never taken for this one's.
fs::path fetched_marker(const storage::DatasetSources& sources, const DistEnv& dist) {
  util::Json key = {{"repo_id", sources.repo_id}, {"blob_urls", sources.blob_urls}, {"dataset_assets", sources.dataset_assets},
                    {"rendezvous", util::cat(dist.master_addr, ":", dist.master_port)}, {"launcher_pid", ::getppid()}};
  return fs::temp_directory_path() / util::cat("robotrain-fetched-", util::sha256_hex(key.dump()).substr(0, 16));
}

fs::path wait_for_fetch(const fs::path& marker, double timeout_s) {
  util::log_info("waiting for local rank 0 to fetch the dataset");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (!fs::exists(marker)) {
    if (std::chrono::steady_clock::now() > deadline)
      throw util::RuntimeError(util::cat("local rank 0 did not fetch the dataset within ", timeout_s,
                                         " s (--dist-timeout); see its log"));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return util::trim(util::read_file(marker));
}

}  // namespace

TrainingDataFetch::TrainingDataFetch(const storage::DatasetSources& sources, const storage::FetchOptions& options,
                                     double timeout_s) {
  const auto dist = dist_env_from_environment();
  if (dist && dist->local_rank != 0) {
    root_ = wait_for_fetch(fetched_marker(sources, *dist), timeout_s);
    return;
  }
  root_ = storage::fetch_dataset_sources(sources, options).root;
  if (!dist) return;
  marker_written_ = fetched_marker(sources, *dist);
  util::atomic_write_file(marker_written_, root_.string());
}

TrainingDataFetch::~TrainingDataFetch() {
  std::error_code ec;
  if (!marker_written_.empty()) fs::remove(marker_written_, ec);
}

}  // namespace robotrain::train
