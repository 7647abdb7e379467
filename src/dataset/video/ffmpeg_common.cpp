#include "dataset/video/ffmpeg_common.h"

#include <cmath>
#include <cstdarg>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "util/log.h"

#include "util/strings.h"

namespace robotrain::dataset::video {

util::RuntimeError ffmpeg_error(const std::string& what, int code) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(code, buf, sizeof buf);
  return util::RuntimeError(what + ": " + buf);
}

namespace {
// FFmpeg's own lines ("[h264 @ 0x55..] error while decoding MB 3 2") say nothing a user can act
// on, and arrive unformatted from decoder threads. Our errors name the file and frame, so
// FFmpeg's go to our log at debug level, one escaped line each.
void route_ffmpeg_log(void* avcl, int level, const char* fmt, va_list args) {
  if (level > av_log_get_level() || util::log_level() > util::LogLevel::Debug) return;
  char line[1024];
  int print_prefix = 1;
  va_list copy;
  va_copy(copy, args);
  av_log_format_line2(avcl, level, fmt, copy, line, sizeof line, &print_prefix);
  va_end(copy);
  std::string text = util::trim(line);
  if (!text.empty()) util::log_debug("ffmpeg: ", util::one_line(text));
}
}  // namespace

void quiet_codec_logs() {
  static std::once_flag once;
  std::call_once(once, [] {
    bool debug = util::log_level() <= util::LogLevel::Debug;
    av_log_set_level(debug ? AV_LOG_INFO : AV_LOG_ERROR);
    av_log_set_callback(route_ffmpeg_log);
    // SVT-AV1 reads SVT_LOG when an encoder is created (2 = warnings); a user's value wins.
    if (!debug) setenv("SVT_LOG", "2", 0);
  });
}

InputFile::~InputFile() {
  if (ctx) avformat_close_input(&ctx);
}

void InputFile::open(const std::filesystem::path& p) {
  quiet_codec_logs();
  path = p;
  if (!std::filesystem::exists(p)) throw util::RuntimeError("video file not found: " + p.string());
  int r = avformat_open_input(&ctx, p.c_str(), nullptr, nullptr);
  if (r < 0) throw ffmpeg_error("cannot open video " + p.string(), r);
  r = avformat_find_stream_info(ctx, nullptr);
  if (r < 0) throw ffmpeg_error("cannot read stream info of " + p.string(), r);
  stream_index = av_find_best_stream(ctx, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (stream_index < 0) throw util::RuntimeError("no video stream in " + p.string() + ": is it a video file?");
}

CodecContextPtr open_decoder(const InputFile& file, int threads) {
  const AVCodecParameters* par = file.stream()->codecpar;
  const AVCodec* codec = nullptr;
  // dav1d is much faster than FFmpeg's native AV1 decoder (which needs hardware).
  if (par->codec_id == AV_CODEC_ID_AV1) codec = avcodec_find_decoder_by_name("libdav1d");
  if (!codec) codec = avcodec_find_decoder(par->codec_id);
  if (!codec)
    throw util::RuntimeError("no decoder for codec '" + std::string(avcodec_get_name(par->codec_id)) + "' in " + file.path.string() +
                             ": install FFmpeg with that decoder (e.g. libdav1d for AV1)");
  CodecContextPtr ctx(avcodec_alloc_context3(codec));
  avcodec_parameters_to_context(ctx.get(), par);
  ctx->thread_count = std::max(1, threads);
  ctx->pkt_timebase = file.stream()->time_base;
  if (codec->id == AV_CODEC_ID_AV1 && std::string(codec->name) == "libdav1d") {
    av_opt_set_int(ctx->priv_data, "max_frame_delay", 1, 0);  // lowest latency: one frame in flight
  }
  int r = avcodec_open2(ctx.get(), codec, nullptr);
  if (r < 0) throw ffmpeg_error("cannot open decoder for " + file.path.string(), r);
  return ctx;
}

VideoInfo describe_stream(const InputFile& file) {
  const AVStream* st = file.stream();
  VideoInfo info;
  info.width = st->codecpar->width;
  info.height = st->codecpar->height;
  AVRational rate = st->avg_frame_rate.num ? st->avg_frame_rate : st->r_frame_rate;
  info.fps = rate.den ? av_q2d(rate) : 0;
  info.codec = avcodec_get_name(st->codecpar->codec_id);
  const char* pf = av_get_pix_fmt_name(static_cast<AVPixelFormat>(st->codecpar->format));
  info.pix_fmt = pf ? pf : "";
  if (st->duration != AV_NOPTS_VALUE) info.duration_s = st->duration * av_q2d(st->time_base);
  else if (file.ctx->duration != AV_NOPTS_VALUE) info.duration_s = file.ctx->duration / static_cast<double>(AV_TIME_BASE);
  info.frame_count = st->nb_frames > 0 ? st->nb_frames : static_cast<int64_t>(std::llround(info.duration_s * info.fps));
  return info;
}

Rgb24Converter::~Rgb24Converter() {
  if (sws_) sws_freeContext(sws_);
  av_free(buffer_);
}

const uint8_t* Rgb24Converter::convert(const AVFrame* f, int* stride) {
  if (f->width <= 0 || f->height <= 0 || f->width > 16384 || f->height > 16384)
    throw util::RuntimeError(util::cat("decoded video frame of ", f->width, "x", f->height, " pixels"));
  if (!sws_ || f->width != w_ || f->height != h_ || f->format != fmt_) {
    if (sws_) sws_freeContext(sws_);
    sws_ = sws_getContext(f->width, f->height, static_cast<AVPixelFormat>(f->format), f->width, f->height, AV_PIX_FMT_RGB24,
                          SWS_BILINEAR, nullptr, nullptr, nullptr);
    if (!sws_) throw util::RuntimeError("cannot convert video frames to RGB (swscale)");
    w_ = f->width, h_ = f->height, fmt_ = f->format;
    // 64 pixels of slack per row (more than any SIMD converter's vector), 64-byte aligned rows,
    // and one spare row after the last.
    stride_ = FFALIGN((f->width + 64) * 3, 64);
    const size_t need = static_cast<size_t>(stride_) * (f->height + 1);
    if (need > buffer_size_) {
      av_free(buffer_);
      buffer_ = static_cast<uint8_t*>(av_malloc(need));
      buffer_size_ = buffer_ ? need : 0;
      if (!buffer_) throw util::RuntimeError("out of memory converting video frames to RGB");
    }
  }
  uint8_t* dst[4] = {buffer_, nullptr, nullptr, nullptr};
  int strides[4] = {stride_, 0, 0, 0};
  sws_scale(sws_, f->data, f->linesize, 0, f->height, dst, strides);
  *stride = stride_;
  return buffer_;
}

void Rgb24Converter::to_rgb24(const AVFrame* f, std::vector<uint8_t>& out) {
  int stride = 0;
  const uint8_t* rgb = convert(f, &stride);
  const size_t row = static_cast<size_t>(f->width) * 3;
  out.resize(row * f->height);
  for (int y = 0; y < f->height; ++y) std::memcpy(out.data() + row * y, rgb + static_cast<size_t>(stride) * y, row);
}

void rgb24_to_planar(const uint8_t* rgb, int stride, int width, int height, bool as_float, uint8_t* dst) {
  const size_t plane = static_cast<size_t>(width) * height;
  for (int y = 0; y < height; ++y) {
    const uint8_t* src = rgb + static_cast<size_t>(stride) * y;
    const size_t o = static_cast<size_t>(y) * width;
    if (as_float) {
      // Divided as torch's frames.float() / 255 does (a multiply by 1/255 can differ in the
      // last bit).
      float* r = reinterpret_cast<float*>(dst) + o;
      float* g = r + plane;
      float* b = g + plane;
      for (int x = 0; x < width; ++x) {
        r[x] = src[3 * x] / 255.0f;
        g[x] = src[3 * x + 1] / 255.0f;
        b[x] = src[3 * x + 2] / 255.0f;
      }
    } else {
      uint8_t* r = dst + o;
      uint8_t* g = r + plane;
      uint8_t* b = g + plane;
      for (int x = 0; x < width; ++x) {
        r[x] = src[3 * x];
        g[x] = src[3 * x + 1];
        b[x] = src[3 * x + 2];
      }
    }
  }
}

}  // namespace robotrain::dataset::video
