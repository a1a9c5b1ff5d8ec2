/* wssaudiochunk-speaker: the three things the program does (list devices,
 * check the microphone, stream a session), each on a GMainLoop in the main
 * thread: the pipeline's bus, the keyboard, SIGINT/SIGTERM/SIGHUP and the
 * status timer are all sources of that loop. */
#pragma once

#include "non-copyable.h"

#include "console.h"
#include "devices.h"
#include "friendly-error.h"
#include "level-meter.h"
#include "speaker-options.h"
#include "status-line.h"

#include <gst/gst.h>

#include <memory>
#include <string>

namespace wssac_speaker
{

class RawTerminal;

class SpeakerApp : private wssac::NonCopyable
{
public:
  explicit SpeakerApp (SpeakerOptions options);
  ~SpeakerApp ();

  /* Runs what the options ask for; returns the exit status. */
  int run ();

  /* The end-session reason of q, Ctrl-C, SIGTERM and SIGHUP (as the browser speaker app's). */
  static constexpr const char *kEndReason = "Speaker ended session";

private:
  int list_devices ();
  int check_mic ();
  int stream ();

  /* streaming */
  static gboolean on_bus (GstBus *bus, GstMessage *msg, gpointer data);
  void on_error (GstMessage *msg);
  void report_error (GstMessage *msg, ErrorOrigin origin);
  void on_element (GstMessage *msg);
  void on_level (const GstStructure *s);
  static gboolean on_stdin (gint fd, GIOCondition cond, gpointer data);
  void on_key (char c);
  static gboolean on_signal (gpointer data);
  static gboolean on_tick (gpointer data);
  void request_end (const char *why);
  void toggle (const char *property, const char *on_signal, const char *off_signal);
  void update_status ();
  void quit (int status);
  ErrorOrigin origin_of (GstObject *src) const;

  SpeakerOptions opt_;
  Console console_;
  GMainLoop *loop_ = nullptr;
  GstElement *pipeline_ = nullptr;
  /* The pipeline's elements errors are told apart by (the pipeline holds them). */
  GstElement *sink_ = nullptr;
  GstElement *capture_ = nullptr;  /* the device's source element (mic mode) */
  GstElement *file_src_ = nullptr; /* filesrc (file mode) */
  GstElement *decoder_ = nullptr;  /* decodebin (file mode) */
  std::unique_ptr<RawTerminal> terminal_;
  LevelMeter meter_;
  SpeakerStatus status_;
  std::string input_name_;
  std::string end_reason_;
  bool error_seen_ = false;
  bool eos_ = false;
  bool ending_ = false;
  int exit_status_ = kExitOk;
  gint64 started_us_ = 0;
  gint64 ended_us_ = 0;
  guint bus_watch_ = 0, stdin_watch_ = 0, tick_ = 0, end_timer_ = 0;
  guint signal_watches_[3] = { 0, 0, 0 };
  struct SignalData
  {
    SpeakerApp *app;
    const char *name;
  };
  SignalData signal_data_[3];
  bool connected_once_ = false;
  std::string last_connection_;
};

} // namespace wssac_speaker
