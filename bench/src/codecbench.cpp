/* codecbench: the cost of one audioChunk message through the wire-format
 * code, json-glib against the fast paths (protocol/audio-chunk-parser.cpp,
 * audio-chunk-writer.cpp), and how often real messages take the fast path.
 *
 *   codecbench [--messages N] [--repeats R]
 *       ns per message, median (min-max) over R repeats of N messages, for
 *       every variant; and the fast-path share of the message sets.
 *   codecbench --instructions [--messages N]
 *       instructions per message of every variant: runs itself under
 *       valgrind --tool=callgrind once per variant (only the measured loop
 *       is instrumented) and divides the total by N. Does not depend on the
 *       load of the machine.
 *   codecbench --share FILE...
 *       which of the files (one message each, e.g. tests/fuzz/corpus/
 *       fuzz_message_codec/real-*) are audioChunk messages, and how many of
 *       those take the fast path.
 *   codecbench --variant V --messages N --callgrind
 *       one variant, N messages, instrumentation around the loop (used by
 *       --instructions).
 *
 * Message sets (deterministic): "sink" as wssaudiochunksink sends them
 * (encode_audio_chunk, 480-560 byte chunks as webmmux cuts 16 kbps Opus
 * every 260 ms, streamId on every one, a stream header on one in 50, a
 * captureTimestamp on one in 10); "browser" as the browser speaker app
 * sends them (JSON.stringify of its object: 500-830 byte chunks, no fields
 * of ours). Variants: decode-json-glib-{sink,browser} (the json-glib decoder),
 * decode-{sink,browser} (decode_message: fast path, json-glib fallback),
 * encode-json-glib, encode (encode_audio_chunk: the writer).
 */
#include "audio-chunk-parser.h"
#include "audio-chunk-writer.h"
#include "message-codec.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <valgrind/callgrind.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace wssac;

namespace
{

struct Corpus
{
  std::vector<std::vector<uint8_t>> audio;
  std::vector<std::vector<uint8_t>> headers;
  std::vector<AudioChunkFields> fields; /* the sink's */
  std::vector<std::string> sink;
  std::vector<std::string> browser;
};

uint32_t
next_random (uint32_t &state)
{
  state = state * 1664525u + 1013904223u;
  return state >> 8;
}

std::string
browser_message (const std::vector<uint8_t> &audio, uint64_t index, int64_t ts)
{
  gchar *b64 = g_base64_encode (audio.data (), audio.size ());
  std::string out
      = std::string ("{\"action\":\"audioChunk\",\"sessionId\":\"session-1764640812345-k3j9x2\",")
        + "\"audioData\":\"" + b64 + "\",\"timestamp\":" + std::to_string (ts)
        + ",\"format\":\"webm-opus\",\"chunkIndex\":" + std::to_string (index)
        + ",\"originalSize\":" + std::to_string (audio.size ()) + "}";
  g_free (b64);
  return out;
}

Corpus
make_corpus (size_t n)
{
  Corpus c;
  uint32_t rng = 12345;
  const std::string stream_id = "5f0c2a9e61b34d7f8a0e9c1b2d3f4a5b";
  c.audio.resize (n);
  c.headers.resize (n);
  c.fields.resize (n);
  std::vector<uint8_t> header (328);
  for (auto &b : header)
    b = static_cast<uint8_t> (next_random (rng));
  for (size_t i = 0; i < n; i++)
    {
      c.audio[i].resize (480 + next_random (rng) % 81);
      for (auto &b : c.audio[i])
        b = static_cast<uint8_t> (next_random (rng));
      AudioChunkFields &f = c.fields[i];
      f.session_id = "demo-speaker-7";
      f.audio = c.audio[i].data ();
      f.audio_size = c.audio[i].size ();
      f.timestamp_ms = 1764640812345 + static_cast<int64_t> (i) * 260;
      f.chunk_index = i;
      f.stream_id = stream_id;
      if (i % 50 == 1)
        {
          c.headers[i] = header;
          f.stream_header = c.headers[i].data ();
          f.stream_header_size = c.headers[i].size ();
        }
      if (i % 10 == 3)
        f.capture_timestamp_ms = f.timestamp_ms - 1500;
      c.sink.push_back (encode_audio_chunk_json_glib (f));
      std::vector<uint8_t> browser_audio (500 + next_random (rng) % 331);
      for (auto &b : browser_audio)
        b = static_cast<uint8_t> (next_random (rng));
      c.browser.push_back (
          browser_message (browser_audio, i, 1764640812345 + static_cast<int64_t> (i) * 300));
    }
  return c;
}

const char *const kVariants[]
    = { "decode-json-glib-sink", "decode-sink",      "decode-json-glib-browser",
        "decode-browser",        "encode-json-glib", "encode" };

/* Runs @variant over every message once; answers a checksum so that
 * nothing is optimised away, or -1 for an unknown variant. */
long
run_variant (const Corpus &c, const std::string &variant, bool callgrind)
{
  long sum = 0;
  bool decode = variant.rfind ("decode", 0) == 0;
  bool json_glib = variant.find ("json-glib") != std::string::npos;
  const std::vector<std::string> *set = nullptr;
  if (decode)
    {
      if (variant.size () > 5 && variant.compare (variant.size () - 5, 5, "-sink") == 0)
        set = &c.sink;
      else if (variant.size () > 8 && variant.compare (variant.size () - 8, 8, "-browser") == 0)
        set = &c.browser;
      else
        return -1;
    }
  else if (variant != "encode" && variant != "encode-json-glib")
    return -1;

  if (callgrind)
    CALLGRIND_START_INSTRUMENTATION;
  if (decode)
    for (const std::string &text : *set)
      {
        DecodeResult r = json_glib ? decode_message_json_glib (text.data (), text.size ())
                                   : decode_message (text.data (), text.size ());
        sum += static_cast<long> (r.message.audio.size ()) + (r.ok () ? 0 : 1000000);
      }
  else
    for (const AudioChunkFields &f : c.fields)
      {
        std::string text = json_glib ? encode_audio_chunk_json_glib (f) : encode_audio_chunk (f);
        sum += static_cast<long> (text.size ());
      }
  if (callgrind)
    CALLGRIND_STOP_INSTRUMENTATION;
  return sum;
}

struct Args
{
  std::vector<std::string> v;
  const char *
  get (const char *name, const char *dflt) const
  {
    for (size_t i = 0; i + 1 < v.size (); i++)
      if (v[i] == name)
        return v[i + 1].c_str ();
    return dflt;
  }
  bool
  flag (const char *name) const
  {
    return std::find (v.begin (), v.end (), name) != v.end ();
  }
};

void
print_share (const Corpus &c)
{
  const std::pair<const char *, const std::vector<std::string> *> sets[]
      = { { "sink", &c.sink }, { "browser", &c.browser } };
  for (const auto &s : sets)
    {
      size_t fast = 0;
      for (const std::string &text : *s.second)
        {
          Message m;
          fast += decode_audio_chunk_fast (text.data (), text.size (), DecodeLimits (), m) ? 1 : 0;
        }
      printf ("fast path: %-8s %zu of %zu messages\n", s.first, fast, s.second->size ());
    }
}

int
share_of_files (const std::vector<std::string> &files)
{
  size_t chunks = 0, fast = 0;
  for (const std::string &path : files)
    {
      gchar *data = nullptr;
      gsize len = 0;
      if (!g_file_get_contents (path.c_str (), &data, &len, nullptr))
        {
          fprintf (stderr, "codecbench: cannot read %s\n", path.c_str ());
          return 1;
        }
      DecodeResult ref = decode_message_json_glib (data, len);
      if (ref.ok () && ref.message.action == Action::AudioChunk)
        {
          Message m;
          bool took = decode_audio_chunk_fast (data, len, DecodeLimits (), m);
          chunks++;
          fast += took ? 1 : 0;
          printf ("%s: %s\n", path.c_str (), took ? "fast path" : "json-glib");
        }
      g_free (data);
    }
  printf ("fast path: %zu of %zu audioChunk messages\n", fast, chunks);
  return 0;
}

/* Total instructions of a callgrind output file: its "totals:" line (the
 * "summary:" line counts only what ran before the last dump). */
long long
callgrind_total (const std::string &path)
{
  gchar *data = nullptr;
  if (!g_file_get_contents (path.c_str (), &data, nullptr, nullptr))
    return -1;
  const char *at = strstr (data, "\ntotals:");
  long long total = at ? atoll (at + strlen ("\ntotals:")) : -1;
  g_free (data);
  return total;
}

int
instructions (const char *self, int n)
{
  gchar *dir = g_dir_make_tmp ("codecbench-XXXXXX", nullptr);
  long long per[G_N_ELEMENTS (kVariants)] = {};
  printf ("%-26s %14s\n", "variant", "instr/message");
  for (size_t i = 0; i < G_N_ELEMENTS (kVariants); i++)
    {
      std::string out = std::string (dir) + "/" + kVariants[i] + ".out";
      std::string cmd
          = std::string ("valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=") + out
            + " '" + self + "' --variant " + kVariants[i] + " --messages " + std::to_string (n)
            + " --callgrind >/dev/null 2>&1";
      if (std::system (cmd.c_str ()) != 0)
        {
          fprintf (stderr, "codecbench: failed: %s\n", cmd.c_str ());
          return 1;
        }
      long long total = callgrind_total (out);
      per[i] = total < 0 ? -1 : total / n;
      printf ("%-26s %14lld\n", kVariants[i], per[i]);
      g_remove (out.c_str ());
    }
  g_rmdir (dir);
  g_free (dir);
  printf ("ratio json-glib / new: decode sink %.1fx, decode browser %.1fx, encode %.1fx\n",
          (double)per[0] / per[1], (double)per[2] / per[3], (double)per[4] / per[5]);
  return 0;
}

int
timings (int n, int repeats)
{
  Corpus c = make_corpus (static_cast<size_t> (n));
  print_share (c);
  double median[G_N_ELEMENTS (kVariants)] = {};
  printf ("%-26s %10s %10s %10s   (ns per message, %d repeats of %d messages)\n", "variant",
          "median", "min", "max", repeats, n);
  for (size_t i = 0; i < G_N_ELEMENTS (kVariants); i++)
    {
      std::vector<double> ns;
      for (int r = 0; r < repeats; r++)
        {
          auto t0 = std::chrono::steady_clock::now ();
          volatile long sum = run_variant (c, kVariants[i], false);
          (void)sum;
          auto t1 = std::chrono::steady_clock::now ();
          ns.push_back (std::chrono::duration<double, std::nano> (t1 - t0).count () / n);
        }
      std::sort (ns.begin (), ns.end ());
      median[i] = ns[ns.size () / 2];
      printf ("%-26s %10.0f %10.0f %10.0f\n", kVariants[i], median[i], ns.front (), ns.back ());
    }
  printf (
      "ratio json-glib / new (medians): decode sink %.1fx, decode browser %.1fx, encode %.1fx\n",
      median[0] / median[1], median[2] / median[3], median[4] / median[5]);
  return 0;
}

} // namespace

int
main (int argc, char **argv)
{
  Args args;
  for (int i = 1; i < argc; i++)
    args.v.push_back (argv[i]);
  int n = atoi (args.get ("--messages", "2000"));
  if (n <= 0)
    n = 2000;
  if (args.flag ("--share"))
    {
      std::vector<std::string> files;
      for (const std::string &a : args.v)
        if (a != "--share")
          files.push_back (a);
      return share_of_files (files);
    }
  if (args.flag ("--instructions"))
    return instructions (argv[0], n);
  const char *variant = args.get ("--variant", nullptr);
  if (variant)
    {
      Corpus c = make_corpus (static_cast<size_t> (n));
      long sum = run_variant (c, variant, args.flag ("--callgrind"));
      if (sum < 0)
        {
          fprintf (stderr, "codecbench: unknown variant %s\n", variant);
          return 2;
        }
      printf ("%s: checksum %ld\n", variant, sum);
      return 0;
    }
  return timings (n, atoi (args.get ("--repeats", "11")));
}
