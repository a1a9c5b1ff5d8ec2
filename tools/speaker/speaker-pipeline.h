/* wssaudiochunk-speaker: the pipelines it runs. Capture (a device, or a
 * file played in real time) -> 16 kHz mono -> level meter -> optional
 * webrtcdsp -> Opus in WebM -> wssaudiochunksink, with the sink configured
 * from the command line (location, session, token, TLS). */
#pragma once

#include "console.h"
#include "level-meter.h"
#include "speaker-options.h"

#include <gst/gst.h>

#include <initializer_list>
#include <string>

namespace wssac_speaker
{

/* 16 kHz mono S16LE: what opusenc, webrtcdsp and the receiver want. level
 * measures the input before any voice processing. */
extern const char *const kCaptureChain;

/* The stream pipeline and the elements errors are told apart by. The
 * pipeline is owned (unref it); the others belong to it. */
struct StreamPipeline
{
  GstElement *pipeline = nullptr;
  GstElement *sink = nullptr;
  GstElement *capture = nullptr;  /* the device's source element (mic mode) */
  GstElement *file_src = nullptr; /* filesrc (file mode) */
  GstElement *decoder = nullptr;  /* decodebin (file mode) */
  std::string input_name;         /* "microphone \"...\"" or "file \"...\"" */
};

/* True when every factory is installed; otherwise prints what to install. */
bool require_elements (Console &console, std::initializer_list<const char *> factories);

/* Picks and opens the capture device of --device: a source element
 * (floating), or nullptr with the reason printed. */
GstElement *open_device (Console &console, const SpeakerOptions &opt, std::string &name);

/* A pipeline named @pipeline_name: the device source @src (floating: taken)
 * linked to @chain (gst-launch syntax). nullptr when @chain does not parse
 * (@err set) or when the device @device_name gives no audio the chain takes
 * (printed). */
GstElement *device_pipeline (Console &console, const char *pipeline_name, GstElement *src,
                             const std::string &device_name, const std::string &chain,
                             GError **err);

/* Builds the stream pipeline of @opt into @out; false with the reason
 * printed. */
bool build_stream_pipeline (Console &console, const SpeakerOptions &opt, StreamPipeline &out);

/* Feeds a `level` element message into @meter (the loudest channel). */
void feed_level (LevelMeter &meter, const GstStructure *level, gint64 now_us);

} // namespace wssac_speaker
