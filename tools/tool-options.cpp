#include "tool-options.h"

#include <gst/gst.h>

namespace wssac_tools
{

bool
parse_tool_options (const char *program, const char *parameter, const char *summary,
                    const GOptionEntry *entries, int &argc, char **&argv)
{
  GOptionContext *ctx = g_option_context_new (parameter);
  g_option_context_set_summary (ctx, summary);
  g_option_context_add_main_entries (ctx, entries, nullptr);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  GError *err = nullptr;
  bool ok = g_option_context_parse (ctx, &argc, &argv, &err);
  if (!ok)
    {
      g_printerr ("%s: %s\n", program, err->message);
      g_error_free (err);
    }
  g_option_context_free (ctx);
  return ok;
}

} // namespace wssac_tools
