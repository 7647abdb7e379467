// mp4 encoding as LeRobot writes its videos (libsvtav1, yuv420p, GOP 2, crf 30, preset 12),
// written under a temporary name and renamed when complete.
#include <cstring>
#include <vector>

#include "dataset/video/ffmpeg_common.h"
#include "util/fs.h"

namespace robotrain::dataset::video {

struct Encoder::Impl {
  EncoderOptions opt;
  std::filesystem::path final_path, temp_path;
  AVFormatContext* out = nullptr;
  AVStream* stream = nullptr;
  CodecContextPtr codec;
  FramePtr frame{av_frame_alloc()};
  PacketPtr packet{av_packet_alloc()};
  SwsContext* sws = nullptr;
  // swscale's SIMD reads a few bytes past the source rows, so the caller's frame is copied into
  // a padded buffer first (a 640x480 RGB frame is exactly 225 pages: the over-read can fault).
  std::vector<uint8_t> padded;
  int64_t written = 0;
  bool finished = false;

  ~Impl() {
    if (sws) sws_freeContext(sws);
    if (out) {
      if (out->pb) avio_closep(&out->pb);
      avformat_free_context(out);
    }
    if (!finished && !temp_path.empty()) {
      std::error_code ec;
      std::filesystem::remove(temp_path, ec);
    }
  }

  void drain() {
    while (true) {
      int r = avcodec_receive_packet(codec.get(), packet.get());
      if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return;
      if (r < 0) throw ffmpeg_error("encoding " + final_path.string(), r);
      // Every frame lasts one period, so the mp4 duration covers the last frame too.
      if (packet->duration <= 0) packet->duration = 1;
      av_packet_rescale_ts(packet.get(), codec->time_base, stream->time_base);
      packet->stream_index = stream->index;
      r = av_interleaved_write_frame(out, packet.get());
      if (r < 0) throw ffmpeg_error("writing " + final_path.string(), r);
    }
  }
};

Encoder::Encoder(const std::filesystem::path& path, EncoderOptions opt) : impl_(std::make_unique<Impl>()) {
  quiet_codec_logs();
  auto& m = *impl_;
  m.opt = opt;
  m.final_path = path;
  m.temp_path = util::temp_sibling(path);
  if (opt.width <= 0 || opt.height <= 0 || opt.fps <= 0) throw util::InputError("video encoder needs a positive width, height and fps");
  if (opt.codec == "libsvtav1" && (opt.width < 64 || opt.height < 64))
    throw util::InputError("AV1 (libsvtav1) needs frames of at least 64x64 pixels (got " + std::to_string(opt.width) + "x" +
                           std::to_string(opt.height) + "): use larger images or --codec h264");
  const AVCodec* codec = avcodec_find_encoder_by_name(opt.codec.c_str());
  if (!codec) throw util::RuntimeError("FFmpeg has no encoder '" + opt.codec + "': install an FFmpeg built with it (Debian: libavcodec-extra)");
  int r = avformat_alloc_output_context2(&m.out, nullptr, "mp4", m.temp_path.c_str());
  if (r < 0) throw ffmpeg_error("cannot create " + path.string(), r);
  m.stream = avformat_new_stream(m.out, nullptr);
  m.codec.reset(avcodec_alloc_context3(codec));
  auto* c = m.codec.get();
  c->width = opt.width;
  c->height = opt.height;
  c->time_base = AVRational{1, opt.fps};
  c->framerate = AVRational{opt.fps, 1};
  c->gop_size = opt.gop;
  c->pix_fmt = av_get_pix_fmt(opt.pix_fmt.c_str());
  if (c->pix_fmt == AV_PIX_FMT_NONE) throw util::InputError("unknown pixel format '" + opt.pix_fmt + "'");
  c->thread_count = 1;
  if (opt.codec == "libsvtav1") {
    av_opt_set_int(c->priv_data, "preset", opt.preset, 0);
    av_opt_set_int(c->priv_data, "crf", opt.crf, 0);
  } else if (opt.codec == "libx264" || opt.codec == "libx265") {
    av_opt_set(c->priv_data, "preset", "veryfast", 0);
    av_opt_set_int(c->priv_data, "crf", opt.crf, 0);
  } else if (opt.codec == "mpeg4") {
    c->flags |= AV_CODEC_FLAG_QSCALE;
    c->global_quality = FF_QP2LAMBDA * 3;
    c->max_b_frames = 0;
  }
  if (m.out->oformat->flags & AVFMT_GLOBALHEADER) c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  r = avcodec_open2(c, codec, nullptr);
  if (r < 0) throw ffmpeg_error("cannot open encoder " + opt.codec + " for " + path.string(), r);
  avcodec_parameters_from_context(m.stream->codecpar, c);
  m.stream->time_base = c->time_base;
  m.stream->avg_frame_rate = c->framerate;
  std::filesystem::create_directories(path.parent_path().empty() ? "." : path.parent_path());
  r = avio_open(&m.out->pb, m.temp_path.c_str(), AVIO_FLAG_WRITE);
  if (r < 0) throw ffmpeg_error("cannot write " + m.temp_path.string(), r);
  r = avformat_write_header(m.out, nullptr);
  if (r < 0) throw ffmpeg_error("cannot write the header of " + path.string(), r);
  m.frame->format = c->pix_fmt;
  m.frame->width = c->width;
  m.frame->height = c->height;
  if (av_frame_get_buffer(m.frame.get(), 0) < 0) throw util::RuntimeError("out of memory allocating a video frame");
  m.sws = sws_getContext(c->width, c->height, AV_PIX_FMT_RGB24, c->width, c->height, c->pix_fmt, SWS_BICUBIC, nullptr, nullptr, nullptr);
}

Encoder::~Encoder() = default;

void Encoder::add_frame(const uint8_t* rgb) {
  auto& m = *impl_;
  if (m.finished) throw util::RuntimeError("add_frame after finish on " + m.final_path.string());
  int r = av_frame_make_writable(m.frame.get());
  if (r < 0) throw ffmpeg_error("encoding " + m.final_path.string(), r);
  size_t bytes = static_cast<size_t>(m.opt.width) * 3 * m.opt.height;
  m.padded.resize(bytes + AV_INPUT_BUFFER_PADDING_SIZE);
  std::memcpy(m.padded.data(), rgb, bytes);
  const uint8_t* src[4] = {m.padded.data(), nullptr, nullptr, nullptr};
  int stride[4] = {m.opt.width * 3, 0, 0, 0};
  sws_scale(m.sws, src, stride, 0, m.opt.height, m.frame->data, m.frame->linesize);
  m.frame->pts = m.written++;
  r = avcodec_send_frame(m.codec.get(), m.frame.get());
  if (r < 0) throw ffmpeg_error("encoding " + m.final_path.string(), r);
  m.drain();
}

int64_t Encoder::frames_written() const { return impl_->written; }

void Encoder::finish() {
  auto& m = *impl_;
  if (m.finished) return;
  avcodec_send_frame(m.codec.get(), nullptr);
  m.drain();
  int r = av_write_trailer(m.out);
  if (r < 0) throw ffmpeg_error("finishing " + m.final_path.string(), r);
  avio_closep(&m.out->pb);
  util::atomic_rename(m.temp_path, m.final_path);
  m.finished = true;
}

}  // namespace robotrain::dataset::video
