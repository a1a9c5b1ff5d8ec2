#include "friendly-error.h"

#include "text-match.h"

#include <gst/gst.h>

namespace wssac_speaker
{

const char *const kMicrophoneDenied = "Microphone access denied. Please allow microphone access "
                                      "(check the audio server's permissions "
                                      "for this user).";
const char *const kNoMicrophone = "No microphone found. Please connect a microphone.";
const char *const kMicrophoneBusy = "Microphone is already in use by another application.";

namespace
{

bool
mentions (const std::string &haystack, std::initializer_list<const char *> needles)
{
  const std::string h = lower (haystack);
  for (const char *n : needles)
    if (h.find (n) != std::string::npos)
      return true;
  return false;
}

bool
is_resource (const ErrorInfo &e, GstResourceError code)
{
  return e.domain == GST_RESOURCE_ERROR && e.code == code;
}

std::string
microphone_error (const ErrorInfo &e)
{
  const std::string all = e.message + "\n" + e.debug;
  if (is_resource (e, GST_RESOURCE_ERROR_NOT_AUTHORIZED))
    return kMicrophoneDenied;
  if (is_resource (e, GST_RESOURCE_ERROR_BUSY))
    return kMicrophoneBusy;
  if (is_resource (e, GST_RESOURCE_ERROR_NOT_FOUND))
    return kNoMicrophone;
  if (e.domain == GST_RESOURCE_ERROR)
    {
      /* alsasrc says OPEN_READ for all of these, with the cause in words;
       * pulsesrc says FAILED with PulseAudio's error text. */
      if (mentions (all, { "busy", "in use", "being used" }))
        return kMicrophoneBusy;
      if (mentions (all, { "permission", "access denied", "not allowed", "not authorized" }))
        return kMicrophoneDenied;
      if (mentions (all,
                    { "no such", "not found", "does not exist", "no device", "no such entity" }))
        return kNoMicrophone;
      if (mentions (all, { "failed to connect: ", "connection refused", "connection terminated" }))
        return "Could not reach the audio server (PulseAudio or PipeWire): " + e.message;
      if (e.code == GST_RESOURCE_ERROR_OPEN_READ || e.code == GST_RESOURCE_ERROR_OPEN_READ_WRITE)
        return "Could not open the microphone: " + e.message;
    }
  return "Microphone error: " + e.message;
}

/* The sink's message is "Could not connect to URI: cause": the prefix
 * repeats what the friendly text says. */
std::string
connect_detail (const std::string &message)
{
  static const std::string prefix = "Could not connect to ";
  if (message.compare (0, prefix.size (), prefix) == 0)
    return message.substr (prefix.size ());
  return message;
}

/* The two common mix-ups, told by what each looks like: wss:// to a plain
 * server waits for a TLS answer that never comes (or gets an HTTP reply
 * where a handshake should be); ws:// to a TLS port gets the connection
 * reset or closed, as the server finds no TLS ClientHello. Nothing is said
 * when nothing listens (refused) or the name does not resolve. */
std::string
scheme_hint (const ErrorInfo &e)
{
  const std::string all = e.message + "\n" + e.debug;
  if (mentions (all, { "refused", "resolv", "name or service", "no route", "(http " }))
    return "";
  const bool tls = g_ascii_strncasecmp (e.url.c_str (), "wss://", 6) == 0;
  const bool ws = g_ascii_strncasecmp (e.url.c_str (), "ws://", 5) == 0;
  if (tls && !mentions (all, { "certificate" })
      && mentions (all, { "no answer", "timed out", "timeout", "tls", "handshake", "packet length",
                          "unexpected" }))
    return ". Hint: the server may not speak TLS: if it is a plain WebSocket server, use ws:// "
           "instead of wss://.";
  if (ws
      && mentions (all, { "reset by peer", "connection closed", "connection terminated",
                          "unexpected eof", "broken pipe", "invalid", "no answer" }))
    return ". Hint: the server may speak TLS: if it is a wss:// server, use wss:// instead of "
           "ws://.";
  return "";
}

std::string
server_error (const ErrorInfo &e)
{
  if (is_resource (e, GST_RESOURCE_ERROR_NOT_AUTHORIZED)
      || (is_resource (e, GST_RESOURCE_ERROR_OPEN_WRITE)
          && mentions (e.message, { "(http 401", "(http 403" })))
    return "Server rejected the connection: " + connect_detail (e.message)
           + ". Check the token (--token or --token-file).";
  if (mentions (e.message + "\n" + e.debug, { "certificate" }))
    return "The server's TLS certificate is not trusted: " + connect_detail (e.message)
           + ". Give the CA that signed it with --ca-file=FILE (PEM); for a test server only, "
             "--insecure skips the check.";
  if (is_resource (e, GST_RESOURCE_ERROR_OPEN_WRITE)
      || is_resource (e, GST_RESOURCE_ERROR_NOT_FOUND))
    return "Server unreachable: " + connect_detail (e.message) + scheme_hint (e);
  if (is_resource (e, GST_RESOURCE_ERROR_SETTINGS))
    return "Invalid server settings: " + e.message;
  if (is_resource (e, GST_RESOURCE_ERROR_WRITE))
    return "Connection to the server lost: " + e.message;
  return "Streaming failed: " + e.message;
}

std::string
file_error (const ErrorInfo &e)
{
  const std::string what = e.file.empty () ? std::string ("the file") : "\"" + e.file + "\"";
  if (e.domain == GST_RESOURCE_ERROR)
    return "Cannot read " + what + ": " + e.message;
  if (e.domain == GST_STREAM_ERROR
      || (e.domain == GST_CORE_ERROR && e.code == GST_CORE_ERROR_MISSING_PLUGIN))
    return "Cannot decode " + what
           + " (not an audio file, or no decoder installed for its format): " + e.message;
  return "Cannot play " + what + ": " + e.message;
}

} // namespace

std::string
friendly_error (const ErrorInfo &info)
{
  switch (info.origin)
    {
    case ErrorOrigin::Microphone:
      return microphone_error (info);
    case ErrorOrigin::File:
      return file_error (info);
    case ErrorOrigin::Server:
      return server_error (info);
    case ErrorOrigin::Other:
      break;
    }
  return "Error: " + info.message;
}

std::string
redact (const std::string &text, const std::string &secret)
{
  if (secret.empty ())
    return text;
  std::string out = text;
  for (size_t pos = out.find (secret); pos != std::string::npos; pos = out.find (secret, pos + 8))
    out.replace (pos, secret.size (), "********");
  return out;
}

} // namespace wssac_speaker
