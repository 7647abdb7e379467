#pragma once
// `dataset synth`: a small valid v3.0 dataset whose actions are a learnable function of the
// observations - the embedded demo and test data. A blob moves on a spiral toward a circle
// of radius 0.6; the state is its (x, y) in [-1, 1], every camera shows it, and the action is
// the next state, a fixed function of the current one (rotate by 2*pi/40, pull the radius).
#include <cstdint>
#include <filesystem>
#include <string>

#include "dataset/lerobot_dataset.h"

namespace robotrain::dataset {

struct SynthOptions {
  int episodes = 4;
  int frames = 60;
  int cameras = 1;
  int height = 96;
  int width = 96;
  int fps = 30;
  uint64_t seed = 0;
  std::string codec = "av1";  // av1 (libsvtav1) | h264 | hevc | mpeg4
  int gop = 2;
  int crf = 30;
  bool overwrite = false;
  bool progress = true;
};

// The dynamics, exposed for tests: the action for a state (x, y).
void synth_next_state(double x, double y, double& nx, double& ny);
// The frame a camera shows for a state, RGB HWC.
void synth_render(double x, double y, int camera, int height, int width, uint8_t* rgb_hwc);
// The ffmpeg encoder name for a --codec value; InputError for an unknown one.
std::string synth_encoder_for(const std::string& codec);

// InputError naming the flag for a size, rate or codec setting out of range.
void check_synth_options(const SynthOptions& options);

DatasetMeta synth_dataset(const std::filesystem::path& output, const SynthOptions& options);

}  // namespace robotrain::dataset
