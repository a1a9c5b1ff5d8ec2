#include "mic-check.h"

#include "speaker-pipeline.h"

#include <algorithm>

namespace wssac_speaker
{

namespace
{

/* Seconds to wait for the first level message (a device that opens but
 * delivers nothing), then seconds measured. */
constexpr gint64 kFirstAudioSeconds = 6;
constexpr gint64 kMeasureSeconds = 1;

/* Pops bus messages until an error, the end, or the measuring second is
 * over; returns an exit status, or -1 when the levels decide. */
int
measure (GstElement *pipeline, GstElement *capture, LevelMeter &meter, const ErrorReporter &report)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  gint64 deadline = g_get_monotonic_time () + kFirstAudioSeconds * G_USEC_PER_SEC;
  bool measuring = false;
  int status = -1;
  while (status < 0)
    {
      const gint64 left = deadline - g_get_monotonic_time ();
      if (left <= 0)
        break;
      GstMessage *msg = gst_bus_timed_pop (bus, static_cast<GstClockTime> (left) * GST_USECOND);
      if (!msg)
        break;
      switch (GST_MESSAGE_TYPE (msg))
        {
        case GST_MESSAGE_ERROR:
          {
            GstObject *src = GST_MESSAGE_SRC (msg);
            const bool mic = src == GST_OBJECT (capture)
                             || gst_object_has_as_ancestor (src, GST_OBJECT (capture));
            report (msg, mic ? ErrorOrigin::Microphone : ErrorOrigin::Other);
            status = kExitFailure;
            break;
          }
        case GST_MESSAGE_ELEMENT:
          {
            const GstStructure *s = gst_message_get_structure (msg);
            if (s && gst_structure_has_name (s, "level"))
              {
                feed_level (meter, s, g_get_monotonic_time ());
                if (!measuring)
                  {
                    measuring = true;
                    deadline = g_get_monotonic_time () + kMeasureSeconds * G_USEC_PER_SEC;
                  }
              }
            break;
          }
        case GST_MESSAGE_EOS:
          deadline = 0;
          break;
        default:
          break;
        }
      gst_message_unref (msg);
    }
  gst_object_unref (bus);
  return status;
}

} // namespace

int
check_microphone (Console &console, const SpeakerOptions &opt, LevelMeter &meter,
                  const ErrorReporter &report)
{
  if (!require_elements (console, { "audioconvert", "audioresample", "level", "fakesink" }))
    return kExitFailure;
  std::string name;
  GstElement *src = open_device (console, opt, name);
  if (!src)
    return kExitFailure;

  GError *err = nullptr;
  GstElement *pipeline
      = device_pipeline (console, "check-mic", src, name,
                         std::string (kCaptureChain) + " ! fakesink sync=false", &err);
  if (!pipeline)
    {
      if (err)
        console.error (std::string ("Cannot build the check pipeline: ") + err->message);
      g_clear_error (&err);
      return kExitFailure;
    }

  console.line ("Checking the microphone \"" + name + "\" for 1 s...");
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  const int status = measure (pipeline, src, meter, report);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  if (status >= 0)
    return status;

  if (meter.updates () == 0)
    {
      console.error ("The microphone \"" + name
                     + "\" opened but delivered no audio in 6 s: it may be in use, suspended, or "
                       "disconnected.");
      return kExitFailure;
    }
  char figures[96];
  g_snprintf (figures, sizeof figures, "input level %d/100 (RMS %.1f dBFS, peak %.1f dBFS)",
              meter.max_level (), std::max (meter.max_rms_db (), -200.0),
              std::max (meter.max_peak_db (), -200.0));
  if (meter.max_rms_db () < -100.0)
    {
      console.error ("The microphone \"" + name + "\" records only silence, " + figures
                     + ": it is probably muted. Unmute it in the mixer (pavucontrol, alsamixer) "
                       "and try again.");
      return kExitFailure;
    }
  if (meter.max_level () == 0)
    console.line ("Microphone works, but it is very quiet: " + std::string (figures)
                  + ". Speak into it, or raise its volume in the mixer.");
  else
    console.line ("Microphone OK: " + std::string (figures) + ".");
  return kExitOk;
}

} // namespace wssac_speaker
