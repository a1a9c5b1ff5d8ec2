/* The receiver most element tests talk to: a wssaudiochunksrc pipeline on
 * 127.0.0.1, port 0, decoding to 16 kHz mono PCM in an appsink (or dropping
 * what it receives, for tests that only read its stats). It also records the
 * broadcast controls and the session end its bus announces. */
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

class Receiver
{
public:
  enum class Output
  {
    kPcm,     /* matroskademux ! opusdec ! ... ! appsink: pull_all()/pcm() */
    kDiscard, /* fakesink */
  };

  /* @src_props: extra wssaudiochunksrc properties ("reorder-wait=200 ..."). */
  explicit Receiver (const std::string &src_props = "", Output output = Output::kPcm);
  ~Receiver ();
  Receiver (const Receiver &) = delete;
  Receiver &operator= (const Receiver &) = delete;

  std::string url (const char *scheme = "ws") const;

  /* Pulls PCM until EOS or @timeout_s; true on EOS. Counts DISCONT buffers
   * after the first into @disconts. */
  bool pull_all (std::vector<int16_t> &pcm, int timeout_s, int *disconts = nullptr);
  /* pull_all() that fails the test unless EOS comes. */
  std::vector<int16_t> pcm (int timeout_s);

  /* The element's stats (caller frees), or one counter of them (0 while
   * the stats do not list it). */
  GstStructure *stats ();
  guint64 stat (const char *name);

  /* Actions of the wss-audio-chunk-control messages, in order. */
  std::vector<std::string> control_actions ();
  /* The reason of the "ended" session message ("" before it). */
  std::string end_reason ();

  GstElement *pipeline = nullptr;
  GstElement *src = nullptr;
  GstElement *out = nullptr; /* the appsink; nullptr with Output::kDiscard */
  guint port = 0;

private:
  static GstBusSyncReply on_message (GstBus *bus, GstMessage *m, gpointer self);

  std::mutex lock_;
  std::vector<std::string> controls_;
  std::string end_reason_;
};
