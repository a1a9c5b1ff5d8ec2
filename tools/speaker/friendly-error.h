/* wssaudiochunk-speaker: GStreamer errors in words a speaker understands,
 * as the browser speaker app's AudioStreamService put getUserMedia's errors
 * (NotAllowedError, NotFoundError, NotReadableError), plus the server side
 * (the sink's RESOURCE OPEN_WRITE: "Server unreachable: ..."). */
#pragma once

#include <glib.h>

#include <string>

namespace wssac_speaker
{

/* Where an error came from: the element that posted it. */
enum class ErrorOrigin
{
  Microphone, /* the capture source (or a child of it) */
  File,       /* --file's filesrc or decodebin */
  Server,     /* wssaudiochunksink */
  Other,      /* converters, encoder, muxer, ... */
};

struct ErrorInfo
{
  ErrorOrigin origin = ErrorOrigin::Other;
  GQuark domain = 0;
  int code = 0;
  std::string message; /* GError message */
  std::string debug;   /* the debug string, may be empty */
  std::string file;    /* --file's path, for File errors */
  std::string url;     /* --url, for the ws:// / wss:// hints of Server errors */
};

/* The browser speaker app's wording, for the cases it had. */
extern const char *const kMicrophoneDenied;
extern const char *const kNoMicrophone;
extern const char *const kMicrophoneBusy;

/* One line (no trailing newline) to show instead of the raw error. */
std::string friendly_error (const ErrorInfo &info);

/* @text with every occurrence of @secret (when not empty) replaced by
 * "********": whatever is printed passes through this, so a token given on
 * the command line never reaches the terminal or a log. */
std::string redact (const std::string &text, const std::string &secret);

} // namespace wssac_speaker
