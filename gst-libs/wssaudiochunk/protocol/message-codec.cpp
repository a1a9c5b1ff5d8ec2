#include "message-codec.h"
#include "enum-names.h"

#include "audio-chunk-parser.h"
#include "audio-chunk-writer.h"
#include "json-members.h"
#include "reply-parser.h"

#include "session-id.h"

#include <glib.h>
#include <json-glib/json-glib.h>

#include <cstring>

namespace wssac
{

namespace
{

std::string
to_string (JsonBuilder *builder)
{
  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  gchar *text = json_to_string (root, FALSE);
  std::string out (text);
  g_free (text);
  return out;
}

using json::add_int;
using json::add_string;

/* Every message the sink sends starts so (the browser speaker app's order). */
void
begin_message (JsonBuilder *b, const char *action, const std::string &session_id)
{
  json_builder_begin_object (b);
  add_string (b, "action", action);
  add_string (b, "sessionId", session_id.c_str ());
}

bool
is_base64_char (char c)
{
  return g_ascii_isalnum (c) || c == '+' || c == '/';
}

/* g_base64_decode() skips characters it does not know; check the alphabet
 * and the padding first so that corrupt data is refused, not half-decoded. */
bool
valid_base64 (const char *s, size_t len)
{
  if (len % 4 != 0)
    return false;
  size_t pad = 0;
  if (len >= 1 && s[len - 1] == '=')
    pad++;
  if (len >= 2 && s[len - 2] == '=')
    pad++;
  for (size_t i = 0; i < len - pad; i++)
    if (!is_base64_char (s[i]))
      return false;
  return true;
}

DecodeResult
fail (DecodeError error, std::string detail)
{
  DecodeResult r;
  r.error = error;
  /* Details quote what the peer sent (and json-glib's messages quote it as
   * decoded): keep them valid UTF-8, or the error reply cannot be sent. */
  gchar *valid = g_utf8_make_valid (detail.c_str (), static_cast<gssize> (detail.size ()));
  r.detail = valid;
  g_free (valid);
  return r;
}

int
hex4 (const char *p, const char *end)
{
  if (end - p < 4)
    return -1;
  int v = 0;
  for (int i = 0; i < 4; i++)
    {
      int d = g_ascii_xdigit_value (p[i]);
      if (d < 0)
        return -1;
      v = v * 16 + d;
    }
  return v;
}

/* What json-glib 1.6 mishandles, refused before it parses (found by
 * fuzzing, docs/security-testing.md): anything but one object (it keeps the
 * first value of "{..}{..}" or "\"\" {..}", leaks the rest and reports
 * success), and \u escapes that are not 4 hex digits or not a surrogate
 * pair (it leaks, or yields invalid UTF-8). Not a JSON parser: a scan of
 * strings and braces. DecodeError::None: the text may go to json-glib. */
struct GuardFindings
{
  /* A string held a \u0000: json-glib would cut it there, so a sessionId
   * "a\u0000b" would alias session "a". nul_member: the top-level member
   * whose value it was (empty: a key or a nested value). */
  bool nul = false;
  std::string nul_member;
};

DecodeResult
json_guard (const char *text, size_t length, GuardFindings *findings = nullptr)
{
  const char *p = text, *end = text + length;
  while (p < end && g_ascii_isspace (*p))
    p++;
  if (p == end)
    return fail (DecodeError::NotJson, "not valid JSON: empty message");
  if (*p != '{')
    return fail (*p == '[' || *p == '"' || *p == '-' || g_ascii_isdigit (*p)
                     ? DecodeError::NotObject
                     : DecodeError::NotJson,
                 "the message must be a JSON object");
  int depth = 0;
  bool in_string = false;
  /* Top level: is the next string a member name, and which member's value
   * are we in (raw text; our member names need no escapes). */
  bool expect_key = true, string_is_key = false;
  const char *string_start = nullptr;
  std::string last_key;
  for (; p < end; p++)
    {
      char c = *p;
      if (in_string)
        {
          if (c == '"')
            {
              in_string = false;
              if (string_is_key)
                last_key.assign (string_start, p);
            }
          else if (c == '\\' && p + 1 < end)
            {
              p++;
              if (*p != 'u')
                continue;
              int u = hex4 (p + 1, end);
              if (u < 0)
                return fail (DecodeError::NotJson,
                             "not valid JSON: a \\u escape without 4 hex digits");
              if (u == 0 && findings && !findings->nul)
                {
                  findings->nul = true;
                  if (depth == 1 && !string_is_key)
                    findings->nul_member = last_key;
                }
              p += 4;
              if (u >= 0xDC00 && u <= 0xDFFF)
                return fail (DecodeError::NotJson,
                             "not valid JSON: a \\u escape of a lone low surrogate");
              if (u >= 0xD800 && u <= 0xDBFF)
                {
                  int low = (end - p > 2 && p[1] == '\\' && p[2] == 'u') ? hex4 (p + 3, end) : -1;
                  if (low < 0xDC00 || low > 0xDFFF)
                    return fail (DecodeError::NotJson, "not valid JSON: a \\u escape of a high "
                                                       "surrogate without its low surrogate");
                  p += 6;
                }
            }
          continue;
        }
      if (c == '"')
        {
          in_string = true;
          string_is_key = depth == 1 && expect_key;
          string_start = p + 1;
        }
      else if (c == ':' && depth == 1)
        expect_key = false;
      else if (c == ',' && depth == 1)
        expect_key = true;
      else if (c == '{' || c == '[')
        depth++;
      else if ((c == '}' || c == ']') && --depth == 0)
        {
          for (p++; p < end; p++)
            if (!g_ascii_isspace (*p))
              return fail (DecodeError::NotJson, "not valid JSON: text after the JSON object");
          return DecodeResult ();
        }
    }
  return DecodeResult (); /* unterminated: json-glib refuses it */
}

/* Integral JSON number, as json-glib parses it (gint64); doubles with no
 * fraction are accepted too, as JavaScript senders may produce them. */
bool
get_int (JsonObject *obj, const char *name, int64_t &out, DecodeResult &err, bool required)
{
  JsonNode *node = json_object_get_member (obj, name);
  if (!node)
    {
      if (required)
        err = fail (DecodeError::MissingField, std::string ("missing field \"") + name + "\"");
      return false;
    }
  if (JSON_NODE_HOLDS_VALUE (node))
    {
      GType t = json_node_get_value_type (node);
      if (t == G_TYPE_INT64)
        {
          out = json_node_get_int (node);
          return true;
        }
      if (t == G_TYPE_DOUBLE)
        {
          double d = json_node_get_double (node);
          /* Range first: casting an out-of-range double is undefined. */
          if (d >= -9007199254740992.0 && d <= 9007199254740992.0
              && d == static_cast<double> (static_cast<int64_t> (d)))
            {
              out = static_cast<int64_t> (d);
              return true;
            }
        }
    }
  err = fail (DecodeError::WrongType, std::string ("field \"") + name + "\" must be an integer");
  return false;
}

bool
get_string (JsonObject *obj, const char *name, std::string &out, DecodeResult &err, bool required)
{
  JsonNode *node = json_object_get_member (obj, name);
  if (!node)
    {
      if (required)
        err = fail (DecodeError::MissingField, std::string ("missing field \"") + name + "\"");
      return false;
    }
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    {
      const char *value = json_node_get_string (node);
      /* json-glib lets "\ud83d" (a lone surrogate) through as invalid UTF-8:
       * refuse it, or it would reach replies, logs and file names. */
      if (!g_utf8_validate (value, -1, nullptr))
        {
          err = fail (DecodeError::BadValue,
                      std::string ("field \"") + name + "\" is not valid UTF-8");
          return false;
        }
      out = value;
      return true;
    }
  err = fail (DecodeError::WrongType, std::string ("field \"") + name + "\" must be a string");
  return false;
}

} // namespace

const char *
decode_error_code (DecodeError error)
{
  static const char *const names[]
      = { "ok",         "not-json",       "not-object", "missing-field", "wrong-type",
          "bad-base64", "unknown-action", "bad-value",  "size-mismatch", "invalid-session-id" };
  WSSAC_NAMES_COVER (names, DecodeError::InvalidSessionId);
  return enum_value_name (error, names);
}

std::string
stream_id_problem (const std::string &id)
{
  if (id.size () != kStreamIdLength)
    return "field \"streamId\" must be " + std::to_string (kStreamIdLength)
           + " lowercase hex digits, not " + std::to_string (id.size ()) + " characters";
  for (char c : id)
    if (!g_ascii_isdigit (c) && !(c >= 'a' && c <= 'f'))
      return "field \"streamId\" must be " + std::to_string (kStreamIdLength)
             + " lowercase hex digits (0-9, a-f)";
  return std::string ();
}

std::string
new_stream_id ()
{
  static const char kHex[] = "0123456789abcdef";
  std::string id;
  for (size_t i = 0; i < kStreamIdLength / 8; i++)
    {
      guint32 v = g_random_int ();
      for (int k = 0; k < 8; k++, v >>= 4)
        id.push_back (kHex[v & 0xf]);
    }
  return id;
}

/* The members both audioChunk encodings end with when they are set. */
static void
add_optional_members (JsonBuilder *b, const AudioChunkFields &f)
{
  if (f.capture_timestamp_ms >= 0)
    add_int (b, "captureTimestamp", f.capture_timestamp_ms);
  if (!f.stream_id.empty ())
    add_string (b, "streamId", f.stream_id.c_str ());
}

/* The members both audioChunk encodings carry after the session (and, in
 * JSON, the audio). */
static void
add_chunk_members (JsonBuilder *b, const AudioChunkFields &f)
{
  add_int (b, "timestamp", f.timestamp_ms);
  add_string (b, "format", f.format.c_str ());
  add_int (b, "chunkIndex", static_cast<gint64> (f.chunk_index));
  add_int (b, "originalSize", static_cast<gint64> (f.audio_size));
}

std::string
encode_audio_chunk_json_glib (const AudioChunkFields &f)
{
  /* json-glib writes every field, with its escaping; only the base64 value
   * is placed afterwards: json-glib would escape its ~900 characters one by
   * one (77 % of the sink's cost per chunk, see docs/performance.md), and the
   * base64 alphabet never needs escaping. */
  g_autoptr (JsonBuilder) b = json_builder_new ();
  begin_message (b, "audioChunk", f.session_id);
  add_string (b, "audioData", "");
  add_chunk_members (b, f);
  if (f.stream_header_size > 0)
    {
      gchar *hdr = g_base64_encode (f.stream_header, f.stream_header_size);
      add_string (b, "streamHeader", hdr);
      g_free (hdr);
    }
  add_optional_members (b, f);
  json_builder_end_object (b);
  std::string out = to_string (b);

  /* The first "audioData":"" is ours: the session id before it is escaped,
   * so its text cannot contain that sequence. */
  static const char kSlot[] = "\"audioData\":\"\"";
  size_t at = out.find (kSlot);
  gchar *b64 = g_base64_encode (f.audio, f.audio_size);
  out.insert (at + sizeof (kSlot) - 2, b64);
  g_free (b64);
  return out;
}

std::string
encode_control (Action action, const std::string &session_id, int64_t timestamp_ms,
                const std::string &reason, const std::string &stream_id)
{
  g_autoptr (JsonBuilder) b = json_builder_new_immutable ();
  begin_message (b, action_name (action), session_id);
  add_int (b, "timestamp", timestamp_ms);
  if (action == Action::EndSession)
    add_string (b, "reason", reason.c_str ());
  if (!stream_id.empty ())
    add_string (b, "streamId", stream_id.c_str ());
  json_builder_end_object (b);
  return to_string (b);
}

std::string
encode_ack (const std::string &session_id, uint64_t chunk_index, const std::string &stream_id)
{
  g_autoptr (JsonBuilder) b = json_builder_new_immutable ();
  begin_message (b, "ack", session_id);
  add_int (b, "chunkIndex", static_cast<gint64> (chunk_index));
  if (!stream_id.empty ())
    add_string (b, "streamId", stream_id.c_str ());
  json_builder_end_object (b);
  return to_string (b);
}

std::string
encode_error (const char *code, const std::string &message, int64_t chunk_index)
{
  g_autoptr (JsonBuilder) b = json_builder_new_immutable ();
  json_builder_begin_object (b);
  add_string (b, "action", "error");
  add_string (b, "code", code);
  add_string (b, "message", message.c_str ());
  if (chunk_index >= 0)
    add_int (b, "chunkIndex", chunk_index);
  json_builder_end_object (b);
  return to_string (b);
}

Reply
decode_reply_json_glib (const char *text, size_t length)
{
  Reply reply;
  if (!json_guard (text, length).ok ())
    return reply;
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, text, static_cast<gssize> (length), nullptr))
    return reply;
  JsonNode *root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    return reply;
  JsonObject *obj = json_node_get_object (root);
  DecodeResult ignored;
  std::string action;
  if (!get_string (obj, "action", action, ignored, false))
    return reply;
  int64_t index = -1;
  if (get_int (obj, "chunkIndex", index, ignored, false) && index >= 0)
    {
      reply.has_index = true;
      reply.chunk_index = static_cast<uint64_t> (index);
    }
  if (action == "ack" && reply.has_index)
    {
      reply.kind = Reply::Ack;
      get_string (obj, "streamId", reply.stream_id, ignored, false);
    }
  else if (action == "error")
    {
      reply.kind = Reply::Error;
      get_string (obj, "code", reply.code, ignored, false);
      get_string (obj, "message", reply.message, ignored, false);
    }
  return reply;
}

namespace
{
struct BinaryPayload
{
  const uint8_t *data;
  size_t size;
};

DecodeResult decode_object (JsonObject *obj, const DecodeLimits &limits,
                            const BinaryPayload *payload, const GuardFindings &findings);
} // namespace

DecodeResult
decode_message_json_glib (const char *text, size_t length, const DecodeLimits &limits)
{
  GuardFindings findings;
  DecodeResult guard = json_guard (text, length, &findings);
  if (!guard.ok ())
    return guard;
  g_autoptr (JsonParser) parser = json_parser_new ();
  GError *error = nullptr;
  if (!json_parser_load_from_data (parser, text, static_cast<gssize> (length), &error))
    {
      std::string detail = std::string ("not valid JSON: ") + (error ? error->message : "?");
      g_clear_error (&error);
      return fail (DecodeError::NotJson, detail);
    }
  JsonNode *root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    return fail (DecodeError::NotObject, "the message must be a JSON object");
  return decode_object (json_node_get_object (root), limits, nullptr, findings);
}

DecodeResult
decode_binary_message (const uint8_t *data, size_t length, const DecodeLimits &limits)
{
  if (length < 6 || memcmp (data, kBinaryMagic, 4) != 0)
    return fail (DecodeError::NotObject, "binary message without the WSAC framing");
  size_t header_len = (static_cast<size_t> (data[4]) << 8) | data[5];
  if (6 + header_len > length)
    return fail (DecodeError::BadValue,
                 "binary framing: header length past the end of the message");
  GuardFindings findings;
  DecodeResult guard
      = json_guard (reinterpret_cast<const char *> (data + 6), header_len, &findings);
  if (!guard.ok ())
    return fail (guard.error, "binary framing: " + guard.detail);
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, reinterpret_cast<const char *> (data + 6),
                                   static_cast<gssize> (header_len), nullptr))
    return fail (DecodeError::NotJson, "binary framing: the header is not valid JSON");
  JsonNode *root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    return fail (DecodeError::NotObject, "binary framing: the header must be a JSON object");
  BinaryPayload payload{ data + 6 + header_len, length - 6 - header_len };
  DecodeResult r = decode_object (json_node_get_object (root), limits, &payload, findings);
  if (r.ok () && r.message.action != Action::AudioChunk)
    return fail (DecodeError::BadValue, "binary framing carries audioChunk messages only");
  return r;
}

std::string
encode_binary_audio_chunk (const AudioChunkFields &f)
{
  g_autoptr (JsonBuilder) b = json_builder_new_immutable ();
  begin_message (b, "audioChunk", f.session_id);
  add_chunk_members (b, f);
  if (f.stream_header_size > 0)
    add_int (b, "streamHeaderSize", static_cast<gint64> (f.stream_header_size));
  add_optional_members (b, f);
  json_builder_end_object (b);
  std::string header = to_string (b);
  std::string out (kBinaryMagic, 4);
  out.push_back (static_cast<char> ((header.size () >> 8) & 0xff));
  out.push_back (static_cast<char> (header.size () & 0xff));
  out += header;
  if (f.stream_header_size > 0)
    out.append (reinterpret_cast<const char *> (f.stream_header), f.stream_header_size);
  out.append (reinterpret_cast<const char *> (f.audio), f.audio_size);
  return out;
}

namespace
{
DecodeResult
decode_object (JsonObject *obj, const DecodeLimits &limits, const BinaryPayload *payload,
               const GuardFindings &findings)
{
  DecodeResult r;
  std::string action;
  if (!get_string (obj, "action", action, r, true))
    return r;
  if (!action_from_name (action, r.message.action))
    return fail (DecodeError::UnknownAction, "unknown action \"" + action + "\"");

  Message &m = r.message;
  /* The original protocol's pause/resume/mute/unmute messages carry no sessionId: the
   * connection identifies the session. audioChunk and endSession must. */
  bool need_session = m.action == Action::AudioChunk || m.action == Action::EndSession;
  if (!get_string (obj, "sessionId", m.session_id, r, need_session) && !r.ok ())
    return r;
  if (findings.nul && findings.nul_member == "sessionId")
    return fail (DecodeError::InvalidSessionId,
                 "the session id contains a NUL character; use printable characters only");
  if (need_session && m.session_id.empty ())
    return fail (DecodeError::BadValue, "field \"sessionId\" is empty");
  /* An empty sessionId on a control means "this connection's session". */
  if (!m.session_id.empty ())
    {
      std::string problem = session_id_problem (m.session_id);
      if (!problem.empty ())
        return fail (DecodeError::InvalidSessionId, problem);
    }
  /* json-glib cuts strings at a NUL: refuse rather than act on a cut value. */
  if (findings.nul)
    return fail (DecodeError::BadValue, "a string contains a NUL character (\\u0000)");
  if (get_string (obj, "streamId", m.stream_id, r, false))
    {
      std::string problem = stream_id_problem (m.stream_id);
      if (!problem.empty ())
        return fail (DecodeError::BadValue, problem);
    }
  else if (!r.ok ())
    return r;
  if (!get_int (obj, "timestamp", m.timestamp_ms, r, false) && !r.ok ())
    return r;

  if (m.action == Action::EndSession)
    {
      if (!get_string (obj, "reason", m.reason, r, false) && !r.ok ())
        return r;
      return r;
    }
  if (m.action != Action::AudioChunk)
    return r;

  std::string data;
  int64_t index = 0, original_size = 0;
  if (payload)
    {
      if (json_object_has_member (obj, "audioData"))
        return fail (DecodeError::BadValue,
                     "binary framing: the audio is the payload, not audioData");
    }
  else if (!get_string (obj, "audioData", data, r, true))
    return r;
  if (!get_int (obj, "chunkIndex", index, r, true))
    return r;
  if (!get_string (obj, "format", m.format, r, false) && !r.ok ())
    return r;
  if (!get_int (obj, "originalSize", original_size, r, false) && !r.ok ())
    return r;
  if (!get_int (obj, "captureTimestamp", m.capture_timestamp_ms, r, false) && !r.ok ())
    return r;
  bool have_size = json_object_has_member (obj, "originalSize");
  std::string header;
  if (!get_string (obj, "streamHeader", header, r, false) && !r.ok ())
    return r;
  if (!header.empty () && !payload)
    {
      if (header.size () / 4 * 3 > limits.max_audio_bytes + 2
          || !valid_base64 (header.data (), header.size ()))
        return fail (DecodeError::BadBase64,
                     "field \"streamHeader\" is not valid base64 of a sane size");
      gsize hlen = 0;
      guchar *h = g_base64_decode (header.c_str (), &hlen);
      m.stream_header.assign (h, h + hlen);
      g_free (h);
    }

  if (index < 0 || static_cast<uint64_t> (index) > limits.max_chunk_index)
    return fail (DecodeError::BadValue,
                 "field \"chunkIndex\" out of range: " + std::to_string (index));
  m.chunk_index = static_cast<uint64_t> (index);
  if (payload)
    {
      int64_t header_size = 0;
      if (!get_int (obj, "streamHeaderSize", header_size, r, false) && !r.ok ())
        return r;
      if (header_size < 0 || static_cast<uint64_t> (header_size) >= payload->size)
        return fail (DecodeError::BadValue, "binary framing: streamHeaderSize leaves no audio");
      if (payload->size - header_size > limits.max_audio_bytes)
        return fail (DecodeError::BadValue,
                     "audio larger than " + std::to_string (limits.max_audio_bytes) + " bytes");
      m.stream_header.assign (payload->data, payload->data + header_size);
      m.audio.assign (payload->data + header_size, payload->data + payload->size);
      if (have_size
          && (original_size < 0 || static_cast<uint64_t> (original_size) != m.audio.size ()))
        return fail (DecodeError::SizeMismatch, "originalSize " + std::to_string (original_size)
                                                    + " but the payload holds "
                                                    + std::to_string (m.audio.size ()) + " bytes");
      m.original_size = m.audio.size ();
      return r;
    }
  if (data.empty ())
    return fail (DecodeError::BadValue, "field \"audioData\" is empty");
  if (data.size () / 4 * 3 > limits.max_audio_bytes + 2)
    return fail (DecodeError::BadValue,
                 "audioData larger than " + std::to_string (limits.max_audio_bytes) + " bytes");
  if (!valid_base64 (data.data (), data.size ()))
    return fail (DecodeError::BadBase64, "field \"audioData\" is not valid base64");
  gsize out_len = 0;
  guchar *decoded = g_base64_decode (data.c_str (), &out_len);
  m.audio.assign (decoded, decoded + out_len);
  g_free (decoded);
  if (have_size && (original_size < 0 || static_cast<uint64_t> (original_size) != m.audio.size ()))
    return fail (DecodeError::SizeMismatch, "originalSize " + std::to_string (original_size)
                                                + " but audioData decodes to "
                                                + std::to_string (m.audio.size ()) + " bytes");
  m.original_size = m.audio.size ();
  return r;
}
} // namespace

std::string
encode_ack_promise (const AckPromise &promise)
{
  return "every=" + std::to_string (promise.every) + "; within-ms="
         + std::to_string (promise.within_ms);
}

AckPromise
parse_ack_promise (const char *value)
{
  AckPromise p;
  if (!value)
    return p;
  gchar **parts = g_strsplit (value, ";", -1);
  bool ok = true;
  for (gchar **part = parts; *part && ok; part++)
    {
      gchar *item = g_strstrip (*part);
      const bool every = g_str_has_prefix (item, "every=");
      const bool within = g_str_has_prefix (item, "within-ms=");
      if (!every && !within)
        continue; /* a later version may say more */
      const char *digits = strchr (item, '=') + 1;
      char *end = nullptr;
      const gint64 n = g_ascii_strtoll (digits, &end, 10);
      ok = end != digits && *end == '\0' && n >= 0 && n <= G_MAXINT32;
      if (ok && every)
        p.every = static_cast<uint32_t> (n);
      else if (ok)
        p.within_ms = n;
    }
  g_strfreev (parts);
  return ok ? p : AckPromise ();
}

} // namespace wssac
