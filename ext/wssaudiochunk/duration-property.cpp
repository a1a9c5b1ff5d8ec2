/* The elements' rule for duration properties (duration-property.h). */
#include "duration-property.h"

bool
wssac::set_duration_ms (GObject *object, GParamSpec *pspec, const GValue *value, guint &field,
                        guint min_ms)
{
  guint ms = g_value_get_uint (value);
  bool zero_allowed = G_PARAM_SPEC_UINT (pspec)->minimum == 0;
  if (ms >= min_ms || (ms == 0 && zero_allowed))
    {
      field = ms;
      return true;
    }
  /* g_warning, as GLib does for a value out of a pspec's range: the person
   * who typed it sees it without a debug log. */
  g_warning ("%s: %s=%u refused: %s is in milliseconds; use %s%u or more (keeping %u)",
             GST_OBJECT_NAME (object), g_param_spec_get_name (pspec), ms,
             g_param_spec_get_name (pspec), zero_allowed ? "0 or " : "", min_ms, field);
  return false;
}
