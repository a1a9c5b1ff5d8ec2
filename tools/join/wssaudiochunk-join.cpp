/* wssaudiochunk-join: one recording per session from the parts that ingest
 * servers wrote. A session is recorded in several parts when its speaker
 * moved between shards (a shard died, a load balancer re-hashed) or a shard
 * restarted. For each session this merges the parts in chunkIndex order per
 * stream, keeps each chunk once, and writes OUTDIR/SESSION.webm (one file per
 * stream when the session id was run more than once: SESSION.s1.webm, ...),
 * OUTDIR/SESSION.wav (every stream decoded, in order) and
 * OUTDIR/SESSION.join.json (which part gave what, gaps, overlaps). */
#include "file-names.h"
#include "json-members.h"
#include "join-files.h"
#include "session-join.h"
#include "tool-options.h"

#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include <cstdio>
#include <set>
#include <string>
#include <vector>

namespace
{

using wssac_join::PartFile;
using wssac_join::SessionParts;
using wssac_join::SessionPlan;

struct Outcome
{
  bool ok = true;
  std::vector<std::string> problems;
  std::vector<std::string> stream_files;
  std::string wav;
  double seconds = 0.0;
  size_t conflicts = 0;
};

std::string
range_text (int64_t first, int64_t last)
{
  if (first < 0)
    return "none";
  return std::to_string (first) + "-" + std::to_string (last);
}

/* Overlapping copies of a chunk must be the same bytes; a difference means
 * two different streams used one streamId, which the join cannot repair. */
size_t
count_conflicts (const SessionParts &s, const SessionPlan &plan)
{
  size_t n = 0;
  for (const auto &o : plan.overlaps)
    {
      std::string a, b, err;
      if (!wssac_join::read_piece (s.parts, o.kept, a, err)
          || !wssac_join::read_piece (s.parts, o.dropped, b, err) || a != b)
        n++;
    }
  return n;
}

Outcome
join_session (const SessionParts &s, const SessionPlan &plan, const std::string &out_dir,
              const std::string &stem)
{
  Outcome res;
  res.conflicts = count_conflicts (s, plan);
  std::vector<int16_t> pcm;
  const bool many = plan.streams.size () > 1;
  for (size_t i = 0; i < plan.streams.size (); i++)
    {
      const auto &sp = plan.streams[i];
      if (!sp.decodable)
        {
          res.ok = false;
          res.problems.push_back ("stream " + sp.stream_id
                                  + ": no part holds its chunk 0 or a stream header");
          res.stream_files.emplace_back ();
          continue;
        }
      const size_t first_part = sp.use_header ? sp.header.part : sp.chunks.begin ()->second.part;
      const bool ogg = s.parts[first_part].ogg;
      std::string bytes, err;
      bool read_ok = !sp.use_header || wssac_join::read_piece (s.parts, sp.header, bytes, err);
      for (auto it = sp.chunks.begin (); read_ok && it != sp.chunks.end (); ++it)
        read_ok = wssac_join::read_piece (s.parts, it->second, bytes, err);
      std::string name
          = stem + (many ? ".s" + std::to_string (i + 1) : "") + (ogg ? ".ogg" : ".webm");
      std::string path = out_dir + G_DIR_SEPARATOR_S + name;
      if (!read_ok || !wssac_join::write_file (path, bytes, err)
          || !wssac_join::decode_stream (path, ogg, pcm, err))
        {
          res.ok = false;
          res.problems.push_back ("stream " + sp.stream_id + ": " + err);
        }
      res.stream_files.push_back (path);
    }
  res.wav = out_dir + G_DIR_SEPARATOR_S + stem + ".wav";
  std::string err;
  if (!wssac_join::write_wav (res.wav, pcm, err))
    {
      res.ok = false;
      res.problems.push_back (res.wav + ": " + err);
    }
  res.seconds = pcm.size () / 16000.0;
  return res;
}

JsonNode *
report_json (const SessionParts &s, const SessionPlan &plan, const Outcome &res)
{
  using namespace wssac::json;
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  add_string (b, "sessionId", s.session_id);
  add_bool (b, "sessionIdFromSummary", s.id_from_summary);
  add_bool (b, "ok", res.ok);
  add_string (b, "wav", res.wav);
  add_double (b, "audioSeconds", res.seconds);
  add_int (b, "overlapping", static_cast<gint64> (plan.overlaps.size ()));
  add_int (b, "conflicts", static_cast<gint64> (res.conflicts));
  json_builder_set_member_name (b, "streams");
  json_builder_begin_array (b);
  for (size_t i = 0; i < plan.streams.size (); i++)
    {
      const auto &sp = plan.streams[i];
      json_builder_begin_object (b);
      add_string (b, "streamId", sp.stream_id);
      add_string (b, "file", res.stream_files[i]);
      add_int (b, "chunks", static_cast<gint64> (sp.chunks.size ()));
      add_int (b, "lastChunkIndex", sp.chunks.empty () ? -1 : sp.chunks.rbegin ()->first);
      json_builder_set_member_name (b, "gaps");
      json_builder_begin_array (b);
      for (const auto &g : sp.gaps)
        {
          json_builder_begin_array (b);
          json_builder_add_int_value (b, g.first);
          json_builder_add_int_value (b, g.second);
          json_builder_end_array (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "parts");
  json_builder_begin_array (b);
  for (size_t i = 0; i < s.parts.size (); i++)
    {
      const PartFile &pf = s.parts[i];
      const auto &rep = plan.parts[i];
      json_builder_begin_object (b);
      add_string (b, "index", pf.index_path);
      add_bool (b, "finalized", pf.has_summary);
      add_int (b, "part", pf.part_number);
      add_bool (b, "recovered", pf.recovered);
      add_int (b, "firstChunkIndex", rep.first_index);
      add_int (b, "lastChunkIndex", rep.last_index);
      add_int (b, "chunks", static_cast<gint64> (rep.chunks));
      add_int (b, "used", static_cast<gint64> (rep.used));
      add_int (b, "overlapping", static_cast<gint64> (rep.overlapping));
      add_int (b, "unreadable",
               static_cast<gint64> (rep.beyond_media + pf.index.malformed
                                    + (pf.index.torn_tail ? 1 : 0)));
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "problems");
  json_builder_begin_array (b);
  for (const auto &p : res.problems)
    json_builder_add_string_value (b, p.c_str ());
  json_builder_end_array (b);
  json_builder_end_object (b);
  JsonNode *root = json_builder_get_root (b);
  g_object_unref (b);
  return root;
}

void
print_session (const SessionParts &s, const SessionPlan &plan, const Outcome &res)
{
  gchar *id = g_strescape (s.session_id.c_str (), nullptr);
  size_t chunks = 0, gaps = 0;
  for (const auto &sp : plan.streams)
    {
      chunks += sp.chunks.size ();
      gaps += sp.gaps.size ();
    }
  printf (
      "session \"%s\": %zu part%s, %zu stream%s, %zu chunks, %zu gap%s, %zu overlapping dropped, "
      "%.2f s -> %s%s\n",
      id, s.parts.size (), s.parts.size () == 1 ? "" : "s", plan.streams.size (),
      plan.streams.size () == 1 ? "" : "s", chunks, gaps, gaps == 1 ? "" : "s",
      plan.overlaps.size (), res.seconds, res.wav.c_str (), res.ok ? "" : " (INCOMPLETE)");
  g_free (id);
  for (size_t i = 0; i < s.parts.size (); i++)
    {
      const auto &rep = plan.parts[i];
      printf ("  part %s: chunks %s (%zu), used %zu, overlapping %zu%s\n",
              s.parts[i].index_path.c_str (), range_text (rep.first_index, rep.last_index).c_str (),
              rep.chunks, rep.used, rep.overlapping,
              s.parts[i].has_summary ? ""
                                     : ", no summary (its server stopped before finalizing it)");
    }
  for (const auto &sp : plan.streams)
    for (const auto &g : sp.gaps)
      printf ("  stream %s: chunks %s missing in every part\n", sp.stream_id.c_str (),
              range_text (g.first, g.second).c_str ());
  for (const auto &p : res.problems)
    printf ("  problem: %s\n", p.c_str ());
  if (res.conflicts)
    printf ("  problem: %zu overlapping chunks differ between parts\n", res.conflicts);
}

} // namespace

int
main (int argc, char **argv)
{
  gchar *out_dir = nullptr;
  GOptionEntry entries[] = {
    { "output-dir", 'o', 0, G_OPTION_ARG_FILENAME, &out_dir,
      "Where to write the joined recordings (default: DIR/joined of the first DIR)", "OUTDIR" },
    { nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr },
  };
  if (!wssac_tools::parse_tool_options (
          "wssaudiochunk-join", "DIR... - join each session's recorded parts into one recording",
          "Reads the parts that wssaudiochunk-ingest servers wrote into DIR... (SESSION.chunks with\n"
          "SESSION.webm, SESSION.part2.chunks, ...; shards may share a directory or each have one),\n"
          "and writes per session OUTDIR/SESSION.webm (SESSION.s1.webm, ... when the session id was\n"
          "run more than once), OUTDIR/SESSION.wav (16 kHz mono 16-bit, every run in order) and\n"
          "OUTDIR/SESSION.join.json. Each chunk is kept once, in chunkIndex order.\n"
          "Exit status: 0 all joined, 1 a session could not be joined completely, 2 usage.",
          entries, argc, argv))
    return 2;
  if (argc < 2)
    {
      g_printerr ("wssaudiochunk-join: name at least one directory of recordings (see --help)\n");
      g_free (out_dir);
      return 2;
    }
  std::vector<std::string> dirs (argv + 1, argv + argc);
  std::string out = out_dir ? out_dir : dirs[0] + G_DIR_SEPARATOR_S + "joined";
  g_free (out_dir);
  if (g_mkdir_with_parents (out.c_str (), 0755) != 0)
    {
      g_printerr ("wssaudiochunk-join: cannot create %s: %s\n", out.c_str (), g_strerror (errno));
      return 1;
    }

  std::vector<std::string> problems;
  auto sessions = wssac_join::collect_sessions (dirs, problems);
  for (const auto &p : problems)
    g_printerr ("wssaudiochunk-join: %s\n", p.c_str ());
  bool all_ok = problems.empty ();
  std::set<std::string> stems;
  for (const SessionParts &s : sessions)
    {
      std::vector<wssac_join::Part> parts;
      for (const PartFile &pf : s.parts)
        parts.push_back (pf.part);
      SessionPlan plan = wssac_join::plan_session (parts);
      std::string base = wssac_ingest::sanitize_session_id (s.session_id), stem = base;
      for (int n = 2; !stems.insert (stem).second; n++)
        stem = base + "-" + std::to_string (n);
      Outcome res = join_session (s, plan, out, stem);
      res.ok = res.ok && res.conflicts == 0;
      all_ok = all_ok && res.ok;
      JsonNode *root = report_json (s, plan, res);
      gchar *text = json_to_string (root, TRUE);
      std::string werr;
      if (!wssac_join::write_file (out + G_DIR_SEPARATOR_S + stem + ".join.json", text, werr))
        {
          g_printerr ("wssaudiochunk-join: %s\n", werr.c_str ());
          all_ok = false;
        }
      g_free (text);
      json_node_unref (root);
      print_session (s, plan, res);
    }
  printf ("%zu session%s joined into %s\n", sessions.size (), sessions.size () == 1 ? "" : "s",
          out.c_str ());
  return all_ok ? 0 : 1;
}
