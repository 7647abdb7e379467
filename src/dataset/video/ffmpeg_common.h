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

// FFmpeg and SVT-AV1 print banners (decoder versions, encoder configuration) at info level;
// keep stderr for our own log lines unless ROBOTRAIN_LOG_LEVEL=debug. Idempotent.
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

// Any decoded pixel format -> tightly packed RGB24, with a cached swscale context.
class Rgb24Converter {
 public:
  ~Rgb24Converter();
  void to_rgb24(const AVFrame* frame, std::vector<uint8_t>& out);

 private:
  SwsContext* sws_ = nullptr;
  int w_ = 0, h_ = 0, fmt_ = -1;
};

}  // namespace robotrain::dataset::video
