/* The command-line tools' one way to read their options: GOption with
 * GStreamer's own options added, a usage error printed as "PROGRAM: why". */
#pragma once

#include <glib.h>

namespace wssac_tools
{

/* Parses @argv (removing what it read) with @entries and GStreamer's
 * options; @parameter and @summary are --help's usage line and text. false
 * after printing the reason on stderr: the tool exits with status 2. */
bool parse_tool_options (const char *program, const char *parameter, const char *summary,
                         const GOptionEntry *entries, int &argc, char **&argv);

} // namespace wssac_tools
