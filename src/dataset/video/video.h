#pragma once
// Video frames through FFmpeg (libavformat/libavcodec/libswscale): AV1 (dav1d), H.264,
// MPEG-4, HEVC decode; AV1 (libsvtav1) encode as LeRobot does.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace robotrain::dataset::video {

struct VideoInfo {
  int width = 0;
  int height = 0;
  double fps = 0;
  std::string codec;    // "av1", "h264", "mpeg4", "hevc", ...
  std::string pix_fmt;  // "yuv420p", ...
  double duration_s = 0;
  int64_t frame_count = 0;  // from the container when known, else estimated
};

VideoInfo probe(const std::filesystem::path& path);

// One decoded frame, RGB24, HWC, row-major, tightly packed.
struct Frame {
  double pts_s = 0;
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;
};

// Where Decoder::frames_into writes: one destination per requested timestamp, each a planar
// 3 x height x width image (R, G, B planes), as uint8 or as float in [0, 1].
struct PlanarTarget {
  int width = 0;
  int height = 0;
  bool as_float = false;
  std::vector<uint8_t*> frames;  // one per timestamp, 3 * height * width elements each
};

struct DecoderOptions {
  int threads = 1;  // codec threads for this decoder (the loader parallelises across decoders)
};

// One open file. Not thread-safe; cheap to keep open. Seeks to the keyframe before a target
// and decodes forward; a request just ahead of the last decoded frame decodes forward without
// seeking.
class Decoder {
 public:
  explicit Decoder(const std::filesystem::path& path, DecoderOptions options = {});
  ~Decoder();
  Decoder(Decoder&&) noexcept;
  Decoder& operator=(Decoder&&) noexcept;

  const VideoInfo& info() const;
  const std::filesystem::path& path() const;

  // Frames whose pts is within tolerance_s of each timestamp, in the order asked. Throws
  // util::RuntimeError naming the file, the timestamp and the nearest pts found when none is.
  std::vector<Frame> frames_at(const std::vector<double>& timestamps_s, double tolerance_s = 1e-4);

  // The same frames converted straight into `target` (no intermediate RGB images). A decoded
  // frame of another size than target's (a damaged video, or one that does not match its
  // dataset's metadata) is a util::RuntimeError naming the file and both sizes, raised before
  // anything is written for it.
  void frames_into(const std::vector<double>& timestamps_s, double tolerance_s, const PlanarTarget& target);

  // Sequential decoding from the current position (from the start after construction).
  bool next(Frame& out);

  // Counters for benchmarks: packets decoded since construction, seeks performed.
  int64_t frames_decoded() const;
  int64_t seeks() const;
  // Timestamp of the last decoded frame (-1 before any): where a forward decode would resume.
  double position_s() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Keeps open decoders per file so concurrent loader threads reuse them. Thread-safe.
class DecoderPool {
 public:
  explicit DecoderPool(DecoderOptions options = {}, int max_idle_per_file = 4);
  ~DecoderPool();

  class Lease {
   public:
    Lease(DecoderPool* pool, std::unique_ptr<Decoder> d);
    Lease(Lease&&) noexcept;
    ~Lease();
    Decoder& operator*() { return *decoder_; }
    Decoder* operator->() { return decoder_.get(); }

   private:
    DecoderPool* pool_;
    std::unique_ptr<Decoder> decoder_;
  };

  // Prefers an idle decoder positioned at or just before `hint_timestamp_s`.
  Lease acquire(const std::filesystem::path& path, double hint_timestamp_s = 0);

 private:
  friend class Lease;
  void release(std::unique_ptr<Decoder> d);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct EncoderOptions {
  std::string codec = "libsvtav1";  // "libsvtav1", "libx264", "mpeg4", "libx265" when available
  int width = 0;
  int height = 0;
  int fps = 30;
  int gop = 2;     // LeRobot: g=2
  int crf = 30;    // LeRobot: crf 30
  int preset = 12; // svtav1 preset
  std::string pix_fmt = "yuv420p";
};

// Appends RGB24 HWC frames to an mp4; pts = frame number / fps. Writes to a temp name and
// renames on finish(), so a crash never leaves a truncated video under the final name.
class Encoder {
 public:
  Encoder(const std::filesystem::path& path, EncoderOptions options);
  ~Encoder();
  void add_frame(const uint8_t* rgb_hwc);
  int64_t frames_written() const;
  void finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace robotrain::dataset::video
