// Random-access frame decoding with FFmpeg: seek to the keyframe at or before the earliest
// wanted time, decode forward, convert only the frames that are returned.
#include <algorithm>
#include <cstring>
#include <cmath>
#include <numeric>

#include "dataset/video/ffmpeg_common.h"
#include "dataset/video/video.h"
#include "util/error.h"
#include "util/strings.h"

namespace robotrain::dataset::video {

namespace {
// Without a keyframe index, a wanted time this close ahead of the decoder's position is
// reached by decoding forward instead of seeking.
constexpr double kForwardWindowS = 0.1;
}  // namespace

struct Decoder::Impl {
  std::filesystem::path path;
  InputFile file;
  CodecContextPtr codec;
  FramePtr frame{av_frame_alloc()};
  FramePtr held{av_frame_alloc()};  // the last decoded frame, kept for the next query
  double held_pts = -1;
  PacketPtr packet{av_packet_alloc()};
  Rgb24Converter converter;
  VideoInfo info;
  bool draining = false;
  bool eof = false;
  int64_t decoded = 0;
  int64_t seek_count = 0;

  double pts_seconds(const AVFrame* f) const {
    int64_t ts = f->best_effort_timestamp != AV_NOPTS_VALUE ? f->best_effort_timestamp : f->pts;
    return ts == AV_NOPTS_VALUE ? held_pts + 1.0 / std::max(1.0, info.fps) : ts * av_q2d(file.stream()->time_base);
  }

  // Decodes the next frame into `held`. False at end of stream.
  bool decode_next() {
    while (true) {
      int r = avcodec_receive_frame(codec.get(), frame.get());
      if (r == 0) {
        av_frame_unref(held.get());
        av_frame_move_ref(held.get(), frame.get());
        held_pts = pts_seconds(held.get());
        ++decoded;
        return true;
      }
      if (r == AVERROR_EOF) {
        eof = true;
        return false;
      }
      if (r != AVERROR(EAGAIN)) throw ffmpeg_error("decoding " + path.string(), r);
      if (draining) {
        eof = true;
        return false;
      }
      r = av_read_frame(file.ctx, packet.get());
      if (r == AVERROR_EOF) {
        draining = true;
        avcodec_send_packet(codec.get(), nullptr);
        continue;
      }
      if (r < 0) throw ffmpeg_error("reading " + path.string(), r);
      if (packet->stream_index == file.stream_index) {
        int s = avcodec_send_packet(codec.get(), packet.get());
        if (s < 0 && s != AVERROR(EAGAIN) && s != AVERROR_INVALIDDATA) {
          av_packet_unref(packet.get());
          throw ffmpeg_error("decoding " + path.string(), s);
        }
      }
      av_packet_unref(packet.get());
    }
  }

  // The stream tick at or before `t`. Timestamps come from the dataset's files: one far
  // outside the video is clamped here (and reported as "no frame" later), not cast out of range.
  int64_t tick_at(double t) const {
    const double tick = std::floor(t / av_q2d(file.stream()->time_base));
    constexpr double kLimit = 0x1p62;  // well inside int64_t, far beyond any real video
    return static_cast<int64_t>(std::clamp(tick, -kLimit, kLimit));
  }

  // Seeks to the keyframe at or before `t`. Callers pass the query plus its tolerance so
  // that a keyframe exactly at the query (t/time_base may round just below) is not missed
  // for the one before it, which would cost a whole extra GOP of decoding.
  void seek_before(double t) {
    AVStream* st = file.stream();
    int64_t ts = tick_at(t);
    if (st->start_time != AV_NOPTS_VALUE) ts = std::max(ts, st->start_time);
    int r = av_seek_frame(file.ctx, file.stream_index, ts, AVSEEK_FLAG_BACKWARD);
    if (r < 0) r = av_seek_frame(file.ctx, file.stream_index, st->start_time == AV_NOPTS_VALUE ? 0 : st->start_time, AVSEEK_FLAG_BACKWARD);
    if (r < 0) throw ffmpeg_error("seeking in " + path.string(), r);
    avcodec_flush_buffers(codec.get());
    draining = eof = false;
    held_pts = -1;
    av_frame_unref(held.get());
    ++seek_count;
  }

  // Decoding forward is the cheapest way to `t` when the decoder is already past the
  // keyframe a seek would land on (a seek would decode those same frames again).
  bool forward_is_cheaper(double t) const {
    if (held_pts < 0 || held_pts > t) return false;
    AVStream* st = file.stream();
    int64_t ts = tick_at(t);
    if (const AVIndexEntry* e = avformat_index_get_entry_from_timestamp(st, ts, AVSEEK_FLAG_BACKWARD)) {
      double keyframe = e->timestamp * av_q2d(st->time_base);
      double frame = 1.0 / std::max(1.0, info.fps);
      // Frames to decode forward vs. after a seek (which also costs about one decode).
      return t - held_pts <= (t - keyframe) + 1.5 * frame;
    }
    return t - held_pts < kForwardWindowS;
  }

  double frame_period() const { return 1.0 / std::max(1.0, info.fps); }

  // Positions `held` on the frame nearest `t`; returns |held_pts - t| (infinity if none).
  double move_to(double t, double tol) {
    if (held_pts >= 0 && std::abs(held_pts - t) < tol) return std::abs(held_pts - t);
    // Stop at the first frame that is at least this close below t: the next frame (one period
    // later) cannot be nearer, so a large tolerance still picks the nearest frame.
    double reach = std::min(tol, 0.5 * frame_period());
    if (!forward_is_cheaper(t + reach)) {
      // A seek lands on the keyframe at or before the target by decode order; with reordered
      // (B-)frames or odd indexes that can be after the target, so back off and retry.
      double back = 0;
      for (int attempt = 0;; ++attempt) {
        seek_before(t + reach - back);
        if (!decode_next()) return INFINITY;
        if (held_pts <= t + reach || attempt >= 6 || t + reach - back <= start_s()) break;
        back = back == 0 ? 4 * frame_period() : 4 * back;
      }
      if (held_pts >= t - reach) return std::abs(held_pts - t);
    }
    while (true) {
      if (!decode_next()) {
        // Past the end: the last frame is the nearest.
        return held_pts >= 0 ? std::abs(held_pts - t) : INFINITY;
      }
      if (held_pts >= t - reach) break;
    }
    return std::abs(held_pts - t);
  }

  // Visits the requested timestamps in time order (one forward pass through the file), calling
  // `at(i)` with the decoder on the frame of timestamps[i], or `same(i, j)` when timestamps[i]
  // equals the earlier-visited timestamps[j].
  template <typename At, typename Same>
  void visit_in_time_order(const std::vector<double>& timestamps, double tolerance_s, At&& at, Same&& same) {
    std::vector<size_t> order(timestamps.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return timestamps[a] < timestamps[b]; });
    for (size_t k = 0; k < order.size(); ++k) {
      const size_t i = order[k];
      const double t = timestamps[i];
      if (!std::isfinite(t))
        throw util::RuntimeError(util::cat("timestamp ", t, " s asked of ", path.string(),
                                           " is not a finite number: the dataset's timestamp column is corrupt;"
                                           " `robotrain dataset validate` shows where"));
      if (k > 0 && timestamps[order[k - 1]] == t) {
        same(i, order[k - 1]);
        continue;
      }
      const double err = move_to(t, tolerance_s);
      if (!(err < tolerance_s)) {
        throw util::RuntimeError(util::cat("no frame at ", t, " s in ", path.string(), " (nearest decoded frame at ",
                                           held_pts < 0 ? std::string("none") : util::cat(held_pts, " s"), ", tolerance ",
                                           tolerance_s, " s): the video is shorter than the data or its timestamps differ;",
                                           " if such offsets are expected, raise tolerance_s (--tolerance-s; LeRobot default 1e-4 s)"));
      }
      at(i);
    }
  }

  double start_s() const {
    AVStream* st = file.stream();
    return st->start_time == AV_NOPTS_VALUE ? 0.0 : st->start_time * av_q2d(st->time_base);
  }
};

Decoder::Decoder(const std::filesystem::path& path, DecoderOptions options) : impl_(std::make_unique<Impl>()) {
  auto& m = *impl_;
  m.path = path;
  m.file.open(path);
  m.codec = open_decoder(m.file, options.threads);
  m.info = describe_stream(m.file);
}

Decoder::~Decoder() = default;
Decoder::Decoder(Decoder&&) noexcept = default;
Decoder& Decoder::operator=(Decoder&&) noexcept = default;

const VideoInfo& Decoder::info() const { return impl_->info; }
const std::filesystem::path& Decoder::path() const { return impl_->path; }
int64_t Decoder::frames_decoded() const { return impl_->decoded; }
int64_t Decoder::seeks() const { return impl_->seek_count; }
double Decoder::position_s() const { return impl_->held_pts; }

std::vector<Frame> Decoder::frames_at(const std::vector<double>& timestamps, double tolerance_s) {
  auto& m = *impl_;
  std::vector<Frame> out(timestamps.size());
  m.visit_in_time_order(
      timestamps, tolerance_s,
      [&](size_t i) {
        Frame& f = out[i];
        f.pts_s = m.held_pts;
        f.width = m.held->width;
        f.height = m.held->height;
        m.converter.to_rgb24(m.held.get(), f.rgb);
      },
      [&](size_t i, size_t j) { out[i] = out[j]; });
  return out;
}

void Decoder::frames_into(const std::vector<double>& timestamps, double tolerance_s, const PlanarTarget& target) {
  auto& m = *impl_;
  if (target.frames.size() != timestamps.size())
    throw util::RuntimeError(util::cat("frames_into: ", timestamps.size(), " timestamps but ", target.frames.size(), " destinations"));
  const size_t bytes = static_cast<size_t>(3) * target.width * target.height * (target.as_float ? sizeof(float) : 1);
  m.visit_in_time_order(
      timestamps, tolerance_s,
      [&](size_t i) {
        const AVFrame* f = m.held.get();
        if (f->width != target.width || f->height != target.height)
          throw util::RuntimeError(util::cat(m.path.string(), ": the frame at ", m.held_pts, " s is ", f->width, "x", f->height,
                                             " pixels (width x height), but ", target.width, "x", target.height,
                                             " is expected; the video is damaged or does not belong to this dataset"));
        int stride = 0;
        const uint8_t* rgb = m.converter.convert(f, &stride);
        rgb24_to_planar(rgb, stride, f->width, f->height, target.as_float, target.frames[i]);
      },
      [&](size_t i, size_t j) { std::memcpy(target.frames[i], target.frames[j], bytes); });
}

bool Decoder::next(Frame& out) {
  auto& m = *impl_;
  if (m.eof || !m.decode_next()) return false;
  out.pts_s = m.held_pts;
  out.width = m.held->width;
  out.height = m.held->height;
  m.converter.to_rgb24(m.held.get(), out.rgb);
  return true;
}

VideoInfo probe(const std::filesystem::path& path) {
  InputFile file;
  file.open(path);
  return describe_stream(file);
}

}  // namespace robotrain::dataset::video
