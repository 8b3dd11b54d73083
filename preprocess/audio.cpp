#include "preprocess/audio.h"

#include <fmt/format.h>

#include <memory>
#include <stdexcept>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
}

namespace avf::pre {
namespace {

std::string av_error(int code) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, buf, sizeof buf);
  return buf;
}

struct FormatCloser {
  void operator()(AVFormatContext* c) const { avformat_close_input(&c); }
};
struct CodecFreer {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct SwrFreer {
  void operator()(SwrContext* c) const { swr_free(&c); }
};
struct PacketFreer {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct FrameFreer {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};

}  // namespace

Audio decode_audio(const std::string& path, int sample_rate) {
  auto fail = [&](const std::string& what) { return std::runtime_error(fmt::format("{}: {}", path, what)); };
  AVFormatContext* raw_fmt = nullptr;
  if (int e = avformat_open_input(&raw_fmt, path.c_str(), nullptr, nullptr); e < 0)
    throw fail("cannot open audio (" + av_error(e) + ")");
  std::unique_ptr<AVFormatContext, FormatCloser> fmt_ctx(raw_fmt);
  if (int e = avformat_find_stream_info(fmt_ctx.get(), nullptr); e < 0)
    throw fail("cannot read stream info (" + av_error(e) + ")");
  const AVCodec* codec = nullptr;
  const int stream = av_find_best_stream(fmt_ctx.get(), AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0);
  if (stream < 0) throw fail("no audio stream");
  std::unique_ptr<AVCodecContext, CodecFreer> dec(avcodec_alloc_context3(codec));
  avcodec_parameters_to_context(dec.get(), fmt_ctx->streams[stream]->codecpar);
  if (int e = avcodec_open2(dec.get(), codec, nullptr); e < 0)
    throw fail("cannot open the audio decoder (" + av_error(e) + ")");
  if (dec->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC)  // e.g. raw PCM without a layout: assume default
    av_channel_layout_default(&dec->ch_layout, dec->ch_layout.nb_channels);

  Audio out;
  out.sample_rate = sample_rate;
  out.source_rate = dec->sample_rate;
  out.source_channels = dec->ch_layout.nb_channels;
  if (out.source_rate <= 0 || out.source_channels <= 0) throw fail("audio stream has no sample rate or channels");

  // libswresample mixes to mono with its default matrix and resamples with a windowed-sinc filter.
  AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
  SwrContext* raw_swr = nullptr;
  if (swr_alloc_set_opts2(&raw_swr, &mono, AV_SAMPLE_FMT_FLT, sample_rate, &dec->ch_layout, dec->sample_fmt,
                          dec->sample_rate, 0, nullptr) < 0 ||
      swr_init(raw_swr) < 0) {
    swr_free(&raw_swr);
    throw fail("cannot set up the resampler");
  }
  std::unique_ptr<SwrContext, SwrFreer> swr(raw_swr);

  std::unique_ptr<AVPacket, PacketFreer> packet(av_packet_alloc());
  std::unique_ptr<AVFrame, FrameFreer> frame(av_frame_alloc());
  auto convert = [&](const uint8_t** in, int in_samples) {
    const int capacity = swr_get_out_samples(swr.get(), in_samples);
    if (capacity <= 0) return;
    const size_t old = out.samples.size();
    out.samples.resize(old + capacity);
    uint8_t* dst = reinterpret_cast<uint8_t*>(out.samples.data() + old);
    const int n = swr_convert(swr.get(), &dst, capacity, in, in_samples);
    if (n < 0) throw fail("resampling failed");
    out.samples.resize(old + n);
  };
  // A packet the decoder refuses is skipped, as ffmpeg does; silence of its duration (in source
  // samples; the last frame's length when the container gives none) keeps what follows in place.
  int last_frame_samples = dec->frame_size;
  auto skip = [&](int64_t duration, int error) {
    if (out.bad_packets++ == 0) {
      out.first_bad_s = double(out.samples.size()) / sample_rate;
      out.first_bad_error = av_error(error);
    }
    const AVStream* st = fmt_ctx->streams[stream];
    const int64_t samples =
        duration > 0 ? av_rescale_q(duration, st->time_base, AVRational{1, dec->sample_rate}) : last_frame_samples;
    if (samples > 0 && swr_inject_silence(swr.get(), int(samples)) < 0) throw fail("resampling failed");
  };
  auto drain = [&](int64_t duration) {
    while (true) {
      const int e = avcodec_receive_frame(dec.get(), frame.get());
      if (e == AVERROR(EAGAIN) || e == AVERROR_EOF) return;
      if (e < 0) return skip(duration, e);
      last_frame_samples = frame->nb_samples;
      convert(const_cast<const uint8_t**>(frame->extended_data), frame->nb_samples);
      av_frame_unref(frame.get());
    }
  };
  while (true) {
    const int e = av_read_frame(fmt_ctx.get(), packet.get());
    if (e == AVERROR_EOF) break;
    if (e < 0) throw fail("cannot read audio (" + av_error(e) + ")");
    if (packet->stream_index == stream) {
      ++out.packets;
      const int s = avcodec_send_packet(dec.get(), packet.get());
      if (s < 0 && s != AVERROR(EAGAIN)) skip(packet->duration, s);
      drain(packet->duration);
    }
    av_packet_unref(packet.get());
  }
  avcodec_send_packet(dec.get(), nullptr);
  drain(0);
  convert(nullptr, 0);  // flush the resampler's delay line
  if (out.samples.empty()) throw fail("audio stream contains no samples");
  return out;
}

}  // namespace avf::pre
