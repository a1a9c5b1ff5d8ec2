/* wssaudiochunk-join: see join-files.h. */
#include "join-files.h"

#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include <glib/gstdio.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>

namespace wssac_join
{

namespace
{

bool
ends_with (const std::string &s, const std::string &tail)
{
  return s.size () >= tail.size () && s.compare (s.size () - tail.size (), tail.size (), tail) == 0;
}

/* "name.part3" -> "name": the ingest server's name for a session's later parts. */
std::string
base_of (const std::string &stem)
{
  size_t dot = stem.rfind (".part");
  if (dot == std::string::npos || dot + 5 == stem.size ())
    return stem;
  for (size_t i = dot + 5; i < stem.size (); i++)
    if (!g_ascii_isdigit (stem[i]))
      return stem;
  return stem.substr (0, dot);
}

void
read_summary (const std::string &path, PartFile &pf)
{
  JsonParser *parser = json_parser_new ();
  if (json_parser_load_from_file (parser, path.c_str (), nullptr))
    {
      JsonNode *root = json_parser_get_root (parser);
      if (root && JSON_NODE_HOLDS_OBJECT (root))
        {
          JsonObject *o = json_node_get_object (root);
          if (json_object_has_member (o, "sessionId"))
            {
              const char *id = json_object_get_string_member_with_default (o, "sessionId", nullptr);
              if (id)
                {
                  pf.has_summary = true;
                  pf.session_id = id;
                  pf.part_number = json_object_get_int_member_with_default (o, "part", 0);
                  pf.recovered
                      = json_object_get_boolean_member_with_default (o, "recovered", FALSE);
                }
            }
        }
    }
  g_object_unref (parser);
}

bool
load_part (const std::string &dir, const std::string &name, PartFile &pf, std::string &problem)
{
  const std::string stem = name.substr (0, name.size () - strlen (".chunks"));
  pf.index_path = dir + G_DIR_SEPARATOR_S + name;
  pf.base_stem = base_of (stem);
  const std::string webm = dir + G_DIR_SEPARATOR_S + stem + ".webm";
  const std::string ogg = dir + G_DIR_SEPARATOR_S + stem + ".ogg";
  pf.ogg = !g_file_test (webm.c_str (), G_FILE_TEST_EXISTS)
           && g_file_test (ogg.c_str (), G_FILE_TEST_EXISTS);
  pf.media_path = pf.ogg ? ogg : webm;
  GStatBuf st;
  if (g_stat (pf.media_path.c_str (), &st) != 0)
    {
      problem = pf.index_path + ": no " + stem + ".webm or .ogg next to it";
      return false;
    }
  pf.part.media_bytes = static_cast<uint64_t> (st.st_size);
  pf.part.order_hint = static_cast<int64_t> (st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  gchar *text = nullptr;
  gsize len = 0;
  GError *err = nullptr;
  if (!g_file_get_contents (pf.index_path.c_str (), &text, &len, &err))
    {
      problem = pf.index_path + ": " + err->message;
      g_error_free (err);
      return false;
    }
  pf.index = parse_chunk_index (std::string (text, len));
  g_free (text);
  pf.part.name = pf.index_path;
  pf.part.records = pf.index.records;
  read_summary (dir + G_DIR_SEPARATOR_S + stem + ".json", pf);
  return true;
}

} // namespace

std::vector<SessionParts>
collect_sessions (const std::vector<std::string> &dirs, std::vector<std::string> &problems)
{
  std::vector<PartFile> files;
  for (const std::string &dir : dirs)
    {
      GError *err = nullptr;
      GDir *d = g_dir_open (dir.c_str (), 0, &err);
      if (!d)
        {
          problems.push_back (dir + ": " + err->message);
          g_error_free (err);
          continue;
        }
      std::vector<std::string> names;
      for (const char *n; (n = g_dir_read_name (d));)
        if (ends_with (n, ".chunks") && strlen (n) > strlen (".chunks"))
          names.emplace_back (n);
      g_dir_close (d);
      std::sort (names.begin (), names.end ());
      for (const std::string &n : names)
        {
          PartFile pf;
          std::string problem;
          if (load_part (dir, n, pf, problem))
            files.push_back (std::move (pf));
          else
            problems.push_back (problem);
        }
    }

  /* A part cut off before its summary has only its stem to go by; it belongs
   * with the summarized parts of that stem (one session id per stem, as the
   * ingest server names them), or forms a session of its own. */
  std::map<std::string, std::string> id_of_stem;
  for (const PartFile &pf : files)
    if (pf.has_summary)
      id_of_stem.emplace (pf.base_stem, pf.session_id);
  std::map<std::pair<bool, std::string>, size_t> slot;
  std::vector<SessionParts> sessions;
  for (PartFile &pf : files)
    {
      bool from_summary = pf.has_summary;
      std::string id = pf.session_id;
      if (!from_summary)
        {
          auto it = id_of_stem.find (pf.base_stem);
          from_summary = it != id_of_stem.end ();
          id = from_summary ? it->second : pf.base_stem;
        }
      auto key = std::make_pair (from_summary, id);
      auto it = slot.find (key);
      if (it == slot.end ())
        {
          it = slot.emplace (key, sessions.size ()).first;
          sessions.push_back (SessionParts{ id, from_summary, {} });
        }
      sessions[it->second].parts.push_back (std::move (pf));
    }
  return sessions;
}

bool
read_piece (const std::vector<PartFile> &parts, const Piece &piece, std::string &out,
            std::string &error)
{
  const std::string &path = parts.at (piece.part).media_path;
  FILE *f = fopen (path.c_str (), "rb");
  if (!f)
    {
      error = path + ": " + g_strerror (errno);
      return false;
    }
  size_t at = out.size ();
  out.resize (at + piece.length);
  bool ok = fseeko (f, static_cast<off_t> (piece.offset), SEEK_SET) == 0
            && fread (&out[at], 1, piece.length, f) == piece.length;
  fclose (f);
  if (!ok)
    {
      out.resize (at);
      error = path + ": cannot read the bytes its index names";
    }
  return ok;
}

bool
decode_stream (const std::string &path, bool ogg, std::vector<int16_t> &pcm, std::string &error)
{
  gchar *desc = g_strdup_printf ("filesrc name=in ! %s ! opusdec ! audioconvert ! audioresample "
                                 "! audio/x-raw,format=S16LE,rate=16000,channels=1 "
                                 "! appsink name=out sync=false",
                                 ogg ? "oggdemux" : "matroskademux");
  GError *err = nullptr;
  GstElement *pipeline = gst_parse_launch (desc, &err);
  g_free (desc);
  if (!pipeline)
    {
      error = std::string ("cannot build the decoder: ") + (err ? err->message : "?");
      g_clear_error (&err);
      return false;
    }
  GstElement *in = gst_bin_get_by_name (GST_BIN (pipeline), "in");
  g_object_set (in, "location", path.c_str (), nullptr);
  gst_object_unref (in);
  GstElement *out = gst_bin_get_by_name (GST_BIN (pipeline), "out");
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  while (GstSample *sample = gst_app_sink_pull_sample (GST_APP_SINK (out)))
    {
      GstMapInfo map;
      GstBuffer *buf = gst_sample_get_buffer (sample);
      if (gst_buffer_map (buf, &map, GST_MAP_READ))
        {
          const auto *s = reinterpret_cast<const int16_t *> (map.data);
          pcm.insert (pcm.end (), s, s + map.size / 2);
          gst_buffer_unmap (buf, &map);
        }
      gst_sample_unref (sample);
    }
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  bool ok = msg == nullptr;
  if (msg)
    {
      GError *e = nullptr;
      gst_message_parse_error (msg, &e, nullptr);
      error = path + ": " + (e ? e->message : "decoding failed");
      g_clear_error (&e);
      gst_message_unref (msg);
    }
  gst_object_unref (bus);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (out);
  gst_object_unref (pipeline);
  return ok;
}

bool
write_file (const std::string &path, const std::string &bytes, std::string &error)
{
  GError *err = nullptr;
  if (!g_file_set_contents (path.c_str (), bytes.data (), static_cast<gssize> (bytes.size ()),
                            &err))
    {
      error = err->message;
      g_error_free (err);
      return false;
    }
  return true;
}

bool
write_wav (const std::string &path, const std::vector<int16_t> &pcm, std::string &error)
{
  const uint32_t rate = 16000, data = static_cast<uint32_t> (pcm.size () * 2);
  auto le32 = [] (std::string &s, uint32_t v) {
    for (int i = 0; i < 4; i++)
      s.push_back (static_cast<char> ((v >> (8 * i)) & 0xff));
  };
  auto le16 = [] (std::string &s, uint16_t v) {
    s.push_back (static_cast<char> (v & 0xff));
    s.push_back (static_cast<char> (v >> 8));
  };
  std::string out = "RIFF";
  le32 (out, 36 + data);
  out += "WAVEfmt ";
  le32 (out, 16);
  le16 (out, 1); /* PCM */
  le16 (out, 1); /* mono */
  le32 (out, rate);
  le32 (out, rate * 2); /* bytes per second */
  le16 (out, 2);        /* block align */
  le16 (out, 16);       /* bits */
  out += "data";
  le32 (out, data);
  for (int16_t v : pcm)
    le16 (out, static_cast<uint16_t> (v));
  return write_file (path, out, error);
}

} // namespace wssac_join
