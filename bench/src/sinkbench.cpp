/* sinkbench: the sink's and the receiver's per-message CPU cost, without a
 * network.
 *
 *   sinkbench capture --wav SPEECH.wav --out DIR
 *       Runs filesrc ! wavparse ! audioconvert ! audioresample
 *       ! audio/x-raw,rate=16000,channels=1 ! opusenc bitrate=16000
 *       ! webmmux streamable=true min-cluster-duration=250000000 ! fakesink
 *       and records every buffer webmmux pushed (flags, PTS, duration, bytes)
 *       to DIR/buffers.bin, the chunks our Chunker cuts from them to
 *       DIR/chunks.bin, and per-chunk sizes (Opus payload, WebM, JSON frame)
 *       to DIR/sizes.json.
 *
 *   sinkbench sink --in DIR --variant V --chunks N --repeats R [--callgrind]
 *       Per-chunk cost of the sink's work, V one of
 *         full     what render() and the transport thread do per chunk, minus
 *                  the socket: per buffer stream-lock + gst_buffer_map +
 *                  Chunker::push + unmap; per chunk Outgoing + BroadcastState::
 *                  chunk + enqueue (mutex + Backlog::push) + pop_front +
 *                  encode_audio_chunk (base64 + json-glib) + unacked record
 *         chunker  Chunker::push of the chunk's buffers only
 *         encode   encode_audio_chunk only (base64 + JSON)
 *         base64   g_base64_encode only
 *         queue    BroadcastState::chunk + Backlog push/pop only
 *         direct   a hand-written encoder producing the same bytes as
 *                  encode_audio_chunk (checked), for comparison: what the
 *                  encode step could cost
 *       Prints one JSON line: ns per chunk per repeat.
 *
 *   sinkbench rx --in DIR --variant V --messages N --sessions S --repeats R
 *       Per-message cost of the receiver's work on real messages, V one of
 *         parse    json_parser_load_from_data only
 *         decode   wssac::decode_message (parse, validate, base64-decode)
 *         core     wssac::IngestCore::on_text (decode + sessions + reorder +
 *                  acks), S sessions round robin, indices in order
 *
 * --callgrind: wraps only the measured loop in CALLGRIND_START/STOP
 * instrumentation (run under valgrind --tool=callgrind --instr-atstart=no).
 */
#include "common.h"

#include "backlog.h"
#include "broadcast-state.h"
#include "chunker.h"
#include "ingest-core.h"
#include "message-codec.h"
#include "muxer-buffer.h"

#include <gst/gst.h>
#include <json-glib/json-glib.h>
#include <valgrind/callgrind.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <thread>
#include <string>

using namespace bench;

namespace
{

const char *kSessionId = "b6f1c2d4-5e6f-4a1b-9c2d-3e4f5a6b7c8d"; /* 36 chars, a UUID */
constexpr int64_t kChunkDuration = 250 * 1000000LL;

size_t
sink_max_bytes (size_t session_len)
{
  /* gst_wss_audio_chunk_sink_start(): max-message-size 32768. */
  int64_t room = 32768 - 1024 - 6 * static_cast<int64_t> (session_len) - 4096 * 4 / 3;
  return static_cast<size_t> (room) * 3 / 4;
}

/* A recorded buffer as the Chunker sees it; @pts_shift moves a set PTS
 * (the media is looped). */
wssac::MuxerBuffer
muxer_buffer (const RecBuf &b, int64_t pts_shift = 0)
{
  return { b.data.data (), b.data.size (), b.pts >= 0 ? b.pts + pts_shift : b.pts,
           b.duration, b.header, b.delta };
}

/* ---------------- capture ---------------- */

struct Capture
{
  std::vector<RecBuf> bufs;
  std::vector<int64_t> opus_sizes;
};

GstPadProbeReturn
on_mux_buffer (GstPad *, GstPadProbeInfo *info, gpointer data)
{
  auto *cap = static_cast<Capture *> (data);
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  RecBuf r;
  r.header = GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_HEADER);
  r.delta = GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT);
  r.pts = GST_BUFFER_PTS_IS_VALID (buf) ? static_cast<int64_t> (GST_BUFFER_PTS (buf)) : -1;
  r.duration = GST_BUFFER_DURATION_IS_VALID (buf) ? static_cast<int64_t> (GST_BUFFER_DURATION (buf)) : -1;
  r.data.resize (gst_buffer_get_size (buf));
  gst_buffer_extract (buf, 0, r.data.data (), r.data.size ());
  cap->bufs.push_back (std::move (r));
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn
on_opus_buffer (GstPad *, GstPadProbeInfo *info, gpointer data)
{
  auto *cap = static_cast<Capture *> (data);
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  if (!GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_HEADER))
    cap->opus_sizes.push_back (static_cast<int64_t> (gst_buffer_get_size (buf)));
  return GST_PAD_PROBE_OK;
}

int
do_capture (const Args &args)
{
  std::string wav = args.get ("wav");
  std::string out = args.get ("out");
  std::string desc = "filesrc location=\"" + wav
                     + "\" ! wavparse ! audioconvert ! audioresample ! audio/x-raw,rate=16000,channels=1 "
                       "! opusenc name=enc bitrate=16000 ! webmmux name=mux streamable=true "
                       "min-cluster-duration=250000000 ! fakesink sync=false";
  GError *err = nullptr;
  GstElement *pipe = gst_parse_launch (desc.c_str (), &err);
  if (!pipe)
    {
      fprintf (stderr, "capture: %s\n", err ? err->message : "?");
      return 1;
    }
  Capture cap;
  GstElement *mux = gst_bin_get_by_name (GST_BIN (pipe), "mux");
  GstElement *enc = gst_bin_get_by_name (GST_BIN (pipe), "enc");
  GstPad *mpad = gst_element_get_static_pad (mux, "src");
  GstPad *epad = gst_element_get_static_pad (enc, "src");
  gst_pad_add_probe (mpad, GST_PAD_PROBE_TYPE_BUFFER, on_mux_buffer, &cap, nullptr);
  gst_pad_add_probe (epad, GST_PAD_PROBE_TYPE_BUFFER, on_opus_buffer, &cap, nullptr);
  gst_object_unref (mpad);
  gst_object_unref (epad);
  gst_object_unref (mux);
  gst_object_unref (enc);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  GstBus *bus = gst_element_get_bus (pipe);
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, 120 * GST_SECOND,
                                                (GstMessageType) (GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  bool ok = msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS;
  if (msg)
    gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (pipe);
  if (!ok)
    {
      fprintf (stderr, "capture: pipeline failed\n");
      return 1;
    }

  /* Cut as the sink does. */
  wssac::Chunker chunker (kChunkDuration);
  chunker.set_max_bytes (sink_max_bytes (strlen (kSessionId)));
  std::vector<wssac::Chunk> chunks;
  std::vector<int64_t> opus_in_chunk;
  int64_t opus_acc = 0;
  for (const auto &b : cap.bufs)
    {
      size_t before = chunks.size ();
      chunker.push (muxer_buffer (b), chunks);
      if (chunks.size () > before)
        {
          opus_in_chunk.push_back (opus_acc);
          opus_acc = 0;
        }
      /* webmmux: the Opus frame is the only buffer with a duration. */
      if (!b.header && b.duration > 0)
        opus_acc += static_cast<int64_t> (b.data.size ());
    }
  wssac::Chunk last;
  if (chunker.finish (last))
    {
      chunks.push_back (std::move (last));
      opus_in_chunk.push_back (opus_acc);
    }

  std::vector<std::vector<uint8_t>> raw;
  std::string sizes = "{\"session_id\":\"" + std::string (kSessionId) + "\",\"chunks\":[";
  int64_t opus_total_frames = 0;
  for (auto s : cap.opus_sizes)
    opus_total_frames += s;
  int64_t opus_total_chunks = 0;
  for (size_t i = 0; i < chunks.size (); i++)
    {
      wssac::AudioChunkFields f;
      f.session_id = kSessionId;
      f.audio = chunks[i].bytes.data ();
      f.audio_size = chunks[i].bytes.size ();
      f.timestamp_ms = real_ms ();
      f.chunk_index = i;
      std::string text = wssac::encode_audio_chunk (f);
      char line[256];
      snprintf (line, sizeof line, "%s{\"webm\":%zu,\"opus\":%lld,\"json\":%zu,\"duration_ns\":%lld,\"header\":%d}",
                i ? "," : "", chunks[i].bytes.size (), (long long) opus_in_chunk[i], text.size (),
                (long long) chunks[i].duration, chunks[i].starts_with_stream_header ? 1 : 0);
      sizes += line;
      opus_total_chunks += opus_in_chunk[i];
      raw.push_back (chunks[i].bytes);
    }
  char tail[512];
  snprintf (tail, sizeof tail,
            "],\"stream_header\":%zu,\"opus_packets\":%zu,\"opus_bytes_encoder\":%lld,\"opus_bytes_in_chunks\":%lld,"
            "\"buffers\":%zu}\n",
            chunker.stream_header ().size (), cap.opus_sizes.size (), (long long) opus_total_frames,
            (long long) opus_total_chunks, cap.bufs.size ());
  sizes += tail;

  if (!write_buffers (out + "/buffers.bin", cap.bufs) || !write_chunks (out + "/chunks.bin", raw))
    {
      fprintf (stderr, "capture: could not write to %s\n", out.c_str ());
      return 1;
    }
  FILE *f = fopen ((out + "/sizes.json").c_str (), "w");
  fputs (sizes.c_str (), f);
  fclose (f);
  printf ("{\"buffers\":%zu,\"chunks\":%zu,\"opus_packets\":%zu}\n", cap.bufs.size (), chunks.size (),
          cap.opus_sizes.size ());
  return 0;
}

/* ---------------- a hand-written encoder, for comparison ---------------- */

const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void
append_base64 (std::string &out, const uint8_t *p, size_t n)
{
  size_t at = out.size ();
  out.resize (at + (n + 2) / 3 * 4);
  char *o = &out[at];
  size_t i = 0;
  for (; i + 3 <= n; i += 3)
    {
      uint32_t v = (uint32_t (p[i]) << 16) | (uint32_t (p[i + 1]) << 8) | p[i + 2];
      *o++ = kB64[v >> 18];
      *o++ = kB64[(v >> 12) & 63];
      *o++ = kB64[(v >> 6) & 63];
      *o++ = kB64[v & 63];
    }
  if (i < n)
    {
      uint32_t v = uint32_t (p[i]) << 16;
      if (i + 1 < n)
        v |= uint32_t (p[i + 1]) << 8;
      *o++ = kB64[v >> 18];
      *o++ = kB64[(v >> 12) & 63];
      *o++ = i + 1 < n ? kB64[(v >> 6) & 63] : '=';
      *o++ = '=';
    }
}

void
append_json_string (std::string &out, const std::string &s)
{
  out += '"';
  for (unsigned char c : s)
    {
      if (c == '"' || c == '\\')
        {
          out += '\\';
          out += static_cast<char> (c);
        }
      else if (c < 0x20)
        {
          char esc[8];
          snprintf (esc, sizeof esc, "\\u%04x", c);
          out += esc;
        }
      else
        out += static_cast<char> (c);
    }
  out += '"';
}

std::string
encode_direct (const wssac::AudioChunkFields &f)
{
  std::string out;
  out.reserve (f.audio_size * 4 / 3 + f.session_id.size () + 200);
  out += "{\"action\":\"audioChunk\",\"sessionId\":";
  append_json_string (out, f.session_id);
  out += ",\"audioData\":\"";
  append_base64 (out, f.audio, f.audio_size);
  char tail[160];
  snprintf (tail, sizeof tail, "\",\"timestamp\":%lld,\"format\":", (long long) f.timestamp_ms);
  out += tail;
  append_json_string (out, f.format);
  snprintf (tail, sizeof tail, ",\"chunkIndex\":%llu,\"originalSize\":%zu}", (unsigned long long) f.chunk_index,
            f.audio_size);
  out += tail;
  return out;
}

/* ---------------- sink side ---------------- */

struct Fixture
{
  std::vector<RecBuf> bufs;
  std::vector<GstBuffer *> gst_bufs; /* the same bytes, wrapped */
  size_t first_media = 0;
  int64_t cycle_ns = 0;
};

bool
load_fixture (const std::string &dir, Fixture &fx)
{
  if (!read_buffers (dir + "/buffers.bin", fx.bufs))
    return false;
  int64_t last_end = 0, first_pts = -1;
  for (size_t i = 0; i < fx.bufs.size (); i++)
    {
      auto &b = fx.bufs[i];
      if (b.header)
        fx.first_media = i + 1;
      if (!b.header && b.pts >= 0)
        {
          if (first_pts < 0)
            first_pts = b.pts;
          last_end = std::max (last_end, b.pts + std::max<int64_t> (b.duration, 0));
        }
      GstBuffer *g = gst_buffer_new_wrapped_full (GST_MEMORY_FLAG_READONLY, b.data.data (), b.data.size (), 0,
                                                  b.data.size (), nullptr, nullptr);
      if (b.header)
        GST_BUFFER_FLAG_SET (g, GST_BUFFER_FLAG_HEADER);
      if (b.delta)
        GST_BUFFER_FLAG_SET (g, GST_BUFFER_FLAG_DELTA_UNIT);
      GST_BUFFER_PTS (g) = b.pts >= 0 ? static_cast<GstClockTime> (b.pts) : GST_CLOCK_TIME_NONE;
      GST_BUFFER_DURATION (g) = b.duration >= 0 ? static_cast<GstClockTime> (b.duration) : GST_CLOCK_TIME_NONE;
      fx.gst_bufs.push_back (g);
    }
  /* Loop the media on a cluster boundary, shifted by the media length. */
  fx.cycle_ns = last_end - std::max<int64_t> (first_pts, 0) + 20000000;
  return true;
}

/* The sink's side of one chunk, as the element and the transport do it. */
struct SinkModel
{
  wssac::Chunker chunker{ kChunkDuration };
  wssac::BroadcastState broadcast;
  std::mutex stream_lock;
  std::mutex transport_lock;
  wssac::Backlog backlog;
  std::deque<std::pair<wssac::Outgoing, int64_t>> unacked;
  uint64_t next_index = 0;
  std::vector<wssac::Chunk> done;
  size_t encoded_bytes = 0;
  SinkModel () { chunker.set_max_bytes (sink_max_bytes (strlen (kSessionId))); }
};

inline void
model_transport (SinkModel &m, const wssac::Chunk *chunk_for_queue_only, bool direct)
{
  (void) chunk_for_queue_only;
  wssac::Outgoing item;
  {
    std::lock_guard<std::mutex> g (m.transport_lock);
    if (m.backlog.empty ())
      return;
    item = m.backlog.pop_front ();
  }
  wssac::AudioChunkFields f;
  f.session_id = kSessionId;
  f.format = "webm-opus";
  f.audio = item.audio.data ();
  f.audio_size = item.audio.size ();
  f.timestamp_ms = g_get_real_time () / 1000;
  f.chunk_index = item.chunk_index;
  std::string text = direct ? encode_direct (f) : wssac::encode_audio_chunk (f);
  m.encoded_bytes += text.size ();
  {
    std::lock_guard<std::mutex> g (m.transport_lock);
    m.unacked.emplace_back (std::move (item), g_get_monotonic_time () / 1000);
    while (m.unacked.size () > 20) /* the 5 s replay window */
      m.unacked.pop_front ();
  }
}

/* Runs @n chunks through variant @v; returns elapsed ns. */
int64_t
run_sink (const Fixture &fx, const std::string &v, int n, bool callgrind)
{
  SinkModel m;
  /* Pre-made inputs for the isolated variants. */
  std::vector<std::vector<uint8_t>> chunk_bytes;
  if (v == "encode" || v == "base64" || v == "direct" || v == "queue")
    {
      std::vector<std::vector<uint8_t>> raw;
      wssac::Chunker c (kChunkDuration);
      std::vector<wssac::Chunk> out;
      for (const auto &b : fx.bufs)
        {
          c.push (muxer_buffer (b), out);
        }
      for (auto &ch : out)
        chunk_bytes.push_back (ch.bytes);
      /* check: the direct encoder writes the same bytes */
      wssac::AudioChunkFields f;
      f.session_id = kSessionId;
      f.audio = chunk_bytes[1].data ();
      f.audio_size = chunk_bytes[1].size ();
      f.timestamp_ms = 1764633600123;
      f.chunk_index = 12;
      if (encode_direct (f) != wssac::encode_audio_chunk (f))
        {
          fprintf (stderr, "direct encoder differs from encode_audio_chunk\n");
          exit (2);
        }
    }

  int done = 0;
  size_t sink_bytes = 0;
  if (callgrind)
    CALLGRIND_START_INSTRUMENTATION;
  int64_t t0 = mono_ns ();
  if (v == "full" || v == "chunker")
    {
      const bool full = v == "full";
      /* Header buffers once, then the media looped. */
      for (size_t i = 0; i < fx.first_media; i++)
        {
          wssac::MuxerBuffer mb{ fx.bufs[i].data.data (), fx.bufs[i].data.size (), fx.bufs[i].pts,
                                 fx.bufs[i].duration, true, false };
          m.chunker.push (mb, m.done);
        }
      for (int64_t pass = 0; done < n; pass++)
        {
          const int64_t shift = pass * fx.cycle_ns;
          for (size_t i = fx.first_media; i < fx.bufs.size () && done < n; i++)
            {
              if (full)
                {
                  GstBuffer *buffer = fx.gst_bufs[i];
                  std::lock_guard<std::mutex> g (m.stream_lock);
                  GstMapInfo map;
                  gst_buffer_map (buffer, &map, GST_MAP_READ);
                  m.chunker.push (wssac::muxer_buffer (buffer, map, shift), m.done);
                  gst_buffer_unmap (buffer, &map);
                  for (auto &c : m.done)
                    {
                      /* submit_chunk() */
                      wssac::Outgoing item;
                      item.kind = wssac::OutgoingKind::AudioChunk;
                      item.chunk_index = m.next_index++;
                      item.media_duration = c.duration > 0 ? c.duration : 0;
                      item.created_ms = g_get_real_time () / 1000;
                      item.audio = std::move (c.bytes);
                      wssac::BroadcastEffects bfx = m.broadcast.chunk (std::move (item));
                      for (auto &it : bfx.send)
                        {
                          /* WssClientTransport::enqueue() */
                          it.queued_us = g_get_monotonic_time ();
                          std::lock_guard<std::mutex> tg (m.transport_lock);
                          m.backlog.push (std::move (it));
                        }
                      done++;
                      /* the transport thread's flush() */
                      model_transport (m, nullptr, false);
                    }
                  m.done.clear ();
                }
              else
                {
                  m.chunker.push (muxer_buffer (fx.bufs[i], shift), m.done);
                  for (auto &c : m.done)
                    {
                      sink_bytes += c.bytes.size ();
                      done++;
                    }
                  m.done.clear ();
                }
            }
        }
    }
  else if (v == "encode" || v == "direct")
    {
      const bool direct = v == "direct";
      for (; done < n; done++)
        {
          const auto &c = chunk_bytes[1 + done % (chunk_bytes.size () - 1)];
          wssac::AudioChunkFields f;
          f.session_id = kSessionId;
          f.audio = c.data ();
          f.audio_size = c.size ();
          f.timestamp_ms = g_get_real_time () / 1000;
          f.chunk_index = static_cast<uint64_t> (done);
          std::string text = direct ? encode_direct (f) : wssac::encode_audio_chunk (f);
          sink_bytes += text.size ();
        }
    }
  else if (v == "base64")
    {
      for (; done < n; done++)
        {
          const auto &c = chunk_bytes[1 + done % (chunk_bytes.size () - 1)];
          gchar *b64 = g_base64_encode (c.data (), c.size ());
          sink_bytes += strlen (b64);
          g_free (b64);
        }
    }
  else if (v == "queue")
    {
      for (; done < n; done++)
        {
          wssac::Outgoing item;
          item.kind = wssac::OutgoingKind::AudioChunk;
          item.chunk_index = m.next_index++;
          item.media_duration = kChunkDuration;
          item.created_ms = g_get_real_time () / 1000;
          /* moved in and out of a pool: the sink moves the chunker's bytes too */
          auto &slot = chunk_bytes[1 + done % (chunk_bytes.size () - 1)];
          item.audio = std::move (slot);
          wssac::BroadcastEffects bfx = m.broadcast.chunk (std::move (item));
          for (auto &it : bfx.send)
            {
              std::lock_guard<std::mutex> tg (m.transport_lock);
              m.backlog.push (std::move (it));
            }
          std::lock_guard<std::mutex> tg (m.transport_lock);
          wssac::Outgoing out = m.backlog.pop_front ();
          sink_bytes += out.audio.size ();
          slot = std::move (out.audio);
        }
    }
  else
    {
      fprintf (stderr, "unknown variant %s\n", v.c_str ());
      exit (2);
    }
  int64_t t1 = mono_ns ();
  if (callgrind)
    CALLGRIND_STOP_INSTRUMENTATION;
  if (sink_bytes == 0 && m.encoded_bytes == 0)
    fprintf (stderr, "nothing produced?\n");
  return t1 - t0;
}

int
do_sink (const Args &args)
{
  Fixture fx;
  if (!load_fixture (args.get ("in"), fx))
    {
      fprintf (stderr, "sink: cannot read %s/buffers.bin\n", args.get ("in").c_str ());
      return 1;
    }
  std::string v = args.get ("variant", "full");
  int n = static_cast<int> (args.num ("chunks", 2000));
  int repeats = static_cast<int> (args.num ("repeats", 11));
  bool cg = args.flag ("callgrind");
  if (!cg)
    run_sink (fx, v, std::min (n, 200), false); /* warm-up */
  printf ("{\"variant\":\"%s\",\"chunks\":%d,\"ns_per_chunk\":[", v.c_str (), n);
  for (int r = 0; r < repeats; r++)
    printf ("%s%.1f", r ? "," : "", static_cast<double> (run_sink (fx, v, n, cg)) / n);
  printf ("]}\n");
  return 0;
}

/* ---------------- receiver side ---------------- */

int
do_rx (const Args &args)
{
  std::vector<std::vector<uint8_t>> chunks;
  if (!read_chunks (args.get ("in") + "/chunks.bin", chunks) || chunks.size () < 2)
    {
      fprintf (stderr, "rx: cannot read chunks\n");
      return 1;
    }
  std::string v = args.get ("variant", "core");
  int n = static_cast<int> (args.num ("messages", 20000));
  int sessions = static_cast<int> (args.num ("sessions", 100));
  int repeats = static_cast<int> (args.num ("repeats", 11));
  bool cg = args.flag ("callgrind");

  /* Real messages: S sessions, round robin, each from chunk 0 up. */
  std::vector<std::string> msgs;
  std::vector<int> owner;
  std::vector<uint64_t> index (sessions, 0);
  for (int i = 0; i < n; i++)
    {
      int s = i % sessions;
      uint64_t k = index[s]++;
      const auto &c = k == 0 ? chunks[0] : chunks[1 + (k - 1) % (chunks.size () - 1)];
      wssac::AudioChunkFields f;
      char sid[64];
      snprintf (sid, sizeof sid, "bench-%08d-0000-4000-8000-000000000000", s);
      f.session_id = sid;
      f.audio = c.data ();
      f.audio_size = c.size ();
      f.timestamp_ms = real_ms ();
      f.chunk_index = k;
      msgs.push_back (wssac::encode_audio_chunk (f));
      owner.push_back (s);
    }

  printf ("{\"variant\":\"%s\",\"messages\":%d,\"sessions\":%d,\"ns_per_message\":[", v.c_str (), n, sessions);
  for (int r = 0; r < repeats + (cg ? 0 : 1); r++)
    {
      size_t sink = 0;
      wssac::IngestCore core;
      wssac::IngestOutput out;
      if (v == "core")
        for (int s = 0; s < sessions; s++)
          core.on_connect (static_cast<wssac::ConnectionId> (s + 1), "127.0.0.1:1");
      if (cg)
        CALLGRIND_START_INSTRUMENTATION;
      int64_t t0 = mono_ns ();
      for (int i = 0; i < n; i++)
        {
          const std::string &m = msgs[i];
          if (v == "parse")
            {
              JsonParser *p = json_parser_new_immutable ();
              json_parser_load_from_data (p, m.data (), static_cast<gssize> (m.size ()), nullptr);
              sink += json_parser_get_root (p) != nullptr;
              g_object_unref (p);
            }
          else if (v == "decode")
            {
              wssac::DecodeResult d = wssac::decode_message (m.data (), m.size ());
              sink += d.message.audio.size ();
            }
          else if (v == "core")
            {
              core.on_text (static_cast<wssac::ConnectionId> (owner[i] + 1), m.data (), m.size (), i / 4, out);
              for (auto &e : out.events)
                sink += e.bytes.size ();
              out.clear ();
            }
        }
      int64_t t1 = mono_ns ();
      if (cg)
        CALLGRIND_STOP_INSTRUMENTATION;
      if (sink == 0)
        fprintf (stderr, "rx: nothing decoded?\n");
      if (r == 0 && !cg)
        continue; /* warm-up */
      printf ("%s%.1f", (r > (cg ? 0 : 1)) ? "," : "", static_cast<double> (t1 - t0) / n);
    }
  printf ("]}\n");
  return 0;
}

/* ---------------- the bare cost of waking another thread ---------------- */

struct WakeState
{
  GMainContext *ctx = nullptr;
  GMainLoop *loop = nullptr;
  std::atomic<int64_t> woke{ 0 };
};

gboolean
on_woken (gpointer data)
{
  static_cast<WakeState *> (data)->woke = g_get_monotonic_time ();
  return G_SOURCE_REMOVE;
}

/* What the sink's hand-off costs without any of our work: one thread calls
 * g_main_context_invoke() on a context that another thread runs (as
 * WssClientTransport::enqueue() does), every 250 ms-ish (here 5 ms), and the
 * time until the callback runs is recorded. */
int
do_wake (const Args &args)
{
  int n = static_cast<int> (args.num ("n", 200));
  WakeState st;
  st.ctx = g_main_context_new ();
  st.loop = g_main_loop_new (st.ctx, FALSE);
  std::thread t ([&st] {
    g_main_context_push_thread_default (st.ctx);
    g_main_loop_run (st.loop);
    g_main_context_pop_thread_default (st.ctx);
  });
  std::vector<int64_t> lat;
  for (int i = 0; i < n; i++)
    {
      g_usleep (static_cast<gulong> (args.num ("period-us", 5000)));
      st.woke = 0;
      int64_t t0 = g_get_monotonic_time ();
      g_main_context_invoke (st.ctx, on_woken, &st);
      while (st.woke == 0)
        g_usleep (50);
      lat.push_back (st.woke - t0);
    }
  g_main_loop_quit (st.loop);
  g_main_context_wakeup (st.ctx);
  t.join ();
  printf ("{\"n\":%d,\"p50_us\":%lld,\"p99_us\":%lld,\"min_us\":%lld}\n", n, (long long) percentile (lat, 0.5),
          (long long) percentile (lat, 0.99), (long long) *std::min_element (lat.begin (), lat.end ()));
  return 0;
}

} // namespace

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  if (argc < 2)
    {
      fprintf (stderr, "usage: sinkbench capture|sink|rx ...\n");
      return 2;
    }
  std::string mode = argv[1];
  Args args (argc - 1, argv + 1);
  if (mode == "capture")
    return do_capture (args);
  if (mode == "sink")
    return do_sink (args);
  if (mode == "rx")
    return do_rx (args);
  if (mode == "wake")
    return do_wake (args);
  fprintf (stderr, "unknown mode %s\n", mode.c_str ());
  return 2;
}
