/* Test helpers shared by the element tests: run a pipeline to its end while
 * collecting bus messages, and decode WebM/Opus back to PCM. */
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <string>
#include <vector>

struct BusLog
{
  bool eos = false;
  bool error = false;
  bool timed_out = false;
  std::string error_message; /* GError message */
  std::string error_debug;
  GQuark error_domain = 0;
  int error_code = 0;
  GstStructure *error_details = nullptr; /* owned; GST_ELEMENT_ERROR_WITH_DETAILS */
  std::vector<std::string> warnings;
  std::vector<std::string> warning_debugs; /* the debug text of each warning */
  std::vector<GstStructure *> element_messages; /* owned */
  std::vector<GstStructure *> warning_details;  /* owned */

  BusLog () = default;
  BusLog (const BusLog &) = delete;
  BusLog &operator= (const BusLog &) = delete;
  ~BusLog ();
  /* Element messages with this structure name. */
  std::vector<const GstStructure *> named (const char *name) const;
};

/* Sets @pipeline to PLAYING and pops bus messages until EOS, ERROR or
 * @timeout_s; then sets it to NULL. */
void run_pipeline (GstElement *pipeline, int timeout_s, BusLog &log);

/* Sets @pipeline, which holds the wssaudiochunksrc @src (port=0), to
 * PLAYING and returns the port @src listens on; fails the test when it does
 * not start or listen. */
guint play_and_get_port (GstElement *pipeline, GstElement *src);

/* Decodes WebM (or Ogg) Opus bytes with the stock demuxer and opusdec.
 * Returns false (and fills @error) if GStreamer reports an error. */
bool decode_opus_container (const std::vector<uint8_t> &bytes, bool ogg, std::vector<int16_t> &pcm,
                            int &rate, int &channels, std::string &error);

/* Appends the S16LE samples of @sample to @pcm. */
void append_pcm (GstSample *sample, std::vector<int16_t> &pcm);

std::vector<uint8_t> base64_decode (const std::string &s);
