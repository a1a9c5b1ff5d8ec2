/* wssaudiochunk-ingest: turning a sessionId (any string a client sent) into
 * a safe file name stem. */
#pragma once

#include <string>

namespace wssac_ingest
{

/* Keeps [A-Za-z0-9._-] and replaces every other byte with '_'. An id that
 * would give an empty name, "." or "..", becomes "session-<hash>"; a very
 * long one is cut and gets "-<hash>" so that distinct ids stay distinct and
 * the name fits in a directory entry. */
std::string sanitize_session_id (const std::string &session_id);

/* DIR/NAME with the platform's separator. */
std::string path_join (const std::string &dir, const std::string &name);

} // namespace wssac_ingest
