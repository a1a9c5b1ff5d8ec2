#include "friendly-error.h"

#include <gst/gst.h>

#include <algorithm>
#include <cctype>

namespace wssac_speaker
{

const char *const kMicrophoneDenied = "Microphone access denied. Please allow microphone access "
                                      "(check the audio server's permissions "
                                      "for this user).";
const char *const kNoMicrophone = "No microphone found. Please connect a microphone.";
const char *const kMicrophoneBusy = "Microphone is already in use by another application.";

namespace
{

std::string
lower (std::string s)
{
  std::transform (s.begin (), s.end (), s.begin (),
                  [] (unsigned char c) { return std::tolower (c); });
  return s;
}

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

std::string
server_error (const ErrorInfo &e)
{
  /* The sink maps HTTP 401/403 and 404 as souphttpsrc does. */
  if (is_resource (e, GST_RESOURCE_ERROR_NOT_AUTHORIZED))
    return "Server rejected the connection: " + connect_detail (e.message) + ". Check the token (--token).";
  if (is_resource (e, GST_RESOURCE_ERROR_NOT_FOUND))
    return "Server unreachable: " + connect_detail (e.message);
  if (is_resource (e, GST_RESOURCE_ERROR_OPEN_WRITE))
    {
      if (mentions (e.message, { "(http 401", "(http 403" }))
        return "Server rejected the connection: " + connect_detail (e.message)
               + ". Check the token (--token).";
      return "Server unreachable: " + connect_detail (e.message);
    }
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
