#pragma once
// Small RAII layer over the FFmpeg C API shared by the decoder, encoder and probe.
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "dataset/video/video.h"
#include "util/error.h"

namespace robotrain::dataset::video {

struct FrameFree {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct PacketFree {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct CodecFree {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
using FramePtr = std::unique_ptr<AVFrame, FrameFree>;
using PacketPtr = std::unique_ptr<AVPacket, PacketFree>;
using CodecContextPtr = std::unique_ptr<AVCodecContext, CodecFree>;

util::RuntimeError ffmpeg_error(const std::string& what, int code);

// FFmpeg and SVT-AV1 print banners (decoder versions, encoder configuration) and a line per
// damaged packet; keep stderr for our own log lines unless ROBOTRAIN_LOG_LEVEL=debug.
// Idempotent.
void quiet_codec_logs();

// An opened container positioned on its best video stream.
struct InputFile {
  AVFormatContext* ctx = nullptr;
  int stream_index = -1;
  std::filesystem::path path;
  InputFile() = default;
  InputFile(const InputFile&) = delete;
  InputFile(InputFile&& o) noexcept : ctx(o.ctx), stream_index(o.stream_index), path(std::move(o.path)) { o.ctx = nullptr; }
  ~InputFile();
  void open(const std::filesystem::path& path);
  AVStream* stream() const { return ctx->streams[stream_index]; }
};

CodecContextPtr open_decoder(const InputFile& file, int threads);
VideoInfo describe_stream(const InputFile& file);

// Any decoded pixel format -> packed RGB24, with a cached swscale context.
class Rgb24Converter {
 public:
  Rgb24Converter() = default;
  Rgb24Converter(const Rgb24Converter&) = delete;
  Rgb24Converter& operator=(const Rgb24Converter&) = delete;
  ~Rgb24Converter();
  // Into a buffer of this converter whose rows are `*stride` bytes apart (valid until the next
  // call). The rows are padded: swscale's SIMD converters write whole vectors, up to a few
  // pixels past a row's last one (4 pixels, 12 bytes, for a 636-pixel-wide frame), so a
  // buffer of exactly width x height x 3 bytes is overrun whenever the width is not a multiple
  // of the vector width - a damaged AV1 sequence header is enough to produce such a frame.
  const uint8_t* convert(const AVFrame* frame, int* stride);
  // Tightly packed (width * 3 bytes per row) copy of convert()'s result.
  void to_rgb24(const AVFrame* frame, std::vector<uint8_t>& out);

 private:
  SwsContext* sws_ = nullptr;
  int w_ = 0, h_ = 0, fmt_ = -1;
  uint8_t* buffer_ = nullptr;  // av_malloc'd: aligned for swscale
  size_t buffer_size_ = 0;
  int stride_ = 0;
};

// One packed RGB24 image (rows `stride` bytes apart) -> planar C x H x W (R, G, B planes) at
// `dst`, as uint8 or as float in [0, 1] (LeRobot's float image convention).
void rgb24_to_planar(const uint8_t* rgb, int stride, int width, int height, bool as_float, uint8_t* dst);

}  // namespace robotrain::dataset::video
