/* The elements' one rule for durations: every duration property is a guint
 * in milliseconds, its blurb says so and what 0 means where 0 means
 * something (its GParamSpec minimum is then 0, else at least 1). A non-zero
 * value below the property's smallest sane value is refused with a warning
 * that names the property, the unit and the minimum, and the previous value
 * stays: most often it is a value typed in seconds or nanoseconds for a
 * property that used to count them. */
#pragma once

#include <gst/gst.h>

namespace wssac
{

/* Sets @field from @value (a guint; @object is a GstObject) unless it is below @min_ms and not an
 * allowed 0 (GParamSpec minimum 0); then g_warning and false. */
bool set_duration_ms (GObject *object, GParamSpec *pspec, const GValue *value, guint &field,
                      guint min_ms);

} // namespace wssac
