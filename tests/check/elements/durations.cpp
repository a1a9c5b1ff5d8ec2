/* The elements' rule for durations: every duration property is a guint in
 * milliseconds whose blurb says so; each one reads back what was set; a
 * non-zero value below the property's minimum (a value typed in seconds) is
 * refused with a warning naming the property, the unit and the minimum,
 * and the previous value stays; a value in nanoseconds is out of range. */
#include <gst/check/gstcheck.h>

#include "check-suite.h"

#include <string>
#include <vector>

/* Warnings of the default log domain (the plugin's g_warning), caught
 * instead of aborting the test. */
struct CaughtWarnings
{
  std::vector<std::string> messages;
  guint handler = 0;
  GLogLevelFlags old_fatal;

  CaughtWarnings ()
  {
    handler = g_log_set_handler (
        NULL, static_cast<GLogLevelFlags> (G_LOG_LEVEL_WARNING | G_LOG_FLAG_FATAL),
        [] (const gchar *, GLogLevelFlags, const gchar *message, gpointer data) {
          static_cast<CaughtWarnings *> (data)->messages.push_back (message);
        },
        this);
    old_fatal = g_log_set_always_fatal (static_cast<GLogLevelFlags> (G_LOG_FATAL_MASK));
  }
  ~CaughtWarnings ()
  {
    g_log_set_always_fatal (old_fatal);
    g_log_remove_handler (NULL, handler);
  }
};

struct Duration
{
  const char *name;
  guint value;     /* accepted, read back as it is */
  guint too_small; /* refused with a warning; 0: no such value */
  guint minimum;   /* named in the warning */
};

/* Old-unit mistakes: seconds where they were seconds, one chunk or one
 * ping where it would be harmful. */
static const Duration sink_durations[] = {
  { "chunk-duration", 500, 0, 20 },          { "connect-timeout", 1500, 30, 1000 },
  { "drain-timeout", 20000, 60, 1000 },      { "keepalive-interval", 30000, 30, 1000 },
  { "keepalive-timeout", 3000, 3, 1000 },    { "retry-delay", 250, 0, 1 },
  { "max-retry-delay", 4000, 0, 1 },         { "max-backlog-time", 2000, 50, 100 },
  { "max-pause-time", 1000, 10, 100 },       { "refusal-timeout", 2500, 5, 100 },
  { "max-connection-age", 2000, 500, 1000 }, { "replay-window", 1000, 0, 0 },
};

static const Duration src_durations[] = {
  { "reorder-wait", 250, 0, 0 },
  { "first-message-timeout", 5000, 5, 1000 },
};

static bool
is_duration_name (const char *name)
{
  for (const char *suffix :
       { "-timeout", "-interval", "-delay", "-duration", "-time", "-age", "-window", "-wait" })
    if (g_str_has_suffix (name, suffix))
      return true;
  return false;
}

/* Every duration property of @factory is a guint in milliseconds, and 0 is
 * allowed only where the blurb says what it means. */
static void
check_specs (const char *factory)
{
  GstElement *e = gst_element_factory_make (factory, NULL);
  fail_unless (e != NULL);
  guint n = 0;
  GParamSpec **specs = g_object_class_list_properties (G_OBJECT_GET_CLASS (e), &n);
  guint durations = 0;
  for (guint i = 0; i < n; i++)
    {
      const char *name = g_param_spec_get_name (specs[i]);
      if (!is_duration_name (name))
        continue;
      if (!g_str_has_prefix (g_type_name (specs[i]->owner_type), "GstWss"))
        continue; /* GstBaseSink's own (render-delay, …) are nanoseconds */
      durations++;
      fail_unless (G_IS_PARAM_SPEC_UINT (specs[i]), "%s %s is not a guint", factory, name);
      const char *blurb = g_param_spec_get_blurb (specs[i]);
      fail_unless (strstr (blurb, "illiseconds") != NULL, "%s %s: no unit in \"%s\"", factory, name,
                   blurb);
      if (G_PARAM_SPEC_UINT (specs[i])->minimum == 0 && !g_str_equal (name, "replay-window"))
        fail_unless (strstr (blurb, "0 =") != NULL, "%s %s: 0 allowed but not explained: \"%s\"",
                     factory, name, blurb);
    }
  g_free (specs);
  fail_unless (durations >= 2, "%s: %u duration properties found", factory, durations);
  gst_object_unref (e);
}

static void
check_values (GstElement *e, const Duration *table, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      const Duration &d = table[i];
      g_object_set (e, d.name, d.value, NULL);
      guint got = 0;
      g_object_get (e, d.name, &got, NULL);
      fail_unless_equals_int (got, d.value);
      if (d.too_small == 0)
        continue;

      CaughtWarnings caught;
      g_object_set (e, d.name, d.too_small, NULL);
      g_object_get (e, d.name, &got, NULL);
      fail_unless_equals_int (got, d.value); /* the previous value stays */
      fail_unless_equals_int (caught.messages.size (), 1);
      const std::string &w = caught.messages[0];
      for (const std::string &part : { std::string (d.name), std::string ("milliseconds"),
                                       std::to_string (d.minimum) + " or more" })
        fail_unless (w.find (part) != std::string::npos, "\"%s\" lacks \"%s\"", w.c_str (),
                     part.c_str ());
    }
}

GST_START_TEST (test_duration_specs)
{
  check_specs ("wssaudiochunksink");
  check_specs ("wssaudiochunksrc");
  check_specs ("wssaudiochunkbin");
}
GST_END_TEST;

GST_START_TEST (test_sink_durations)
{
  GstElement *sink = gst_element_factory_make ("wssaudiochunksink", NULL);
  check_values (sink, sink_durations, G_N_ELEMENTS (sink_durations));
  /* 0 where it means "off". */
  g_object_set (sink, "keepalive-interval", 0, "max-connection-age", 0, NULL);
  guint interval = 1, age = 1;
  g_object_get (sink, "keepalive-interval", &interval, "max-connection-age", &age, NULL);
  fail_unless_equals_int (interval, 0);
  fail_unless_equals_int (age, 0);
  gst_object_unref (sink);
}
GST_END_TEST;

/* The bin's copies refuse the same values (the sink does). */
GST_START_TEST (test_bin_durations)
{
  GstElement *bin = gst_element_factory_make ("wssaudiochunkbin", NULL);
  check_values (bin, sink_durations, G_N_ELEMENTS (sink_durations));
  gst_object_unref (bin);
}
GST_END_TEST;

GST_START_TEST (test_src_durations)
{
  GstElement *src = gst_element_factory_make ("wssaudiochunksrc", NULL);
  check_values (src, src_durations, G_N_ELEMENTS (src_durations));
  gst_object_unref (src);
}
GST_END_TEST;

/* A value in nanoseconds, as these properties took before, is out of the
 * pspec's range: GLib refuses it. */
GST_START_TEST (test_nanoseconds_out_of_range)
{
  GstElement *sink = gst_element_factory_make ("wssaudiochunksink", NULL);
  for (const char *name : { "chunk-duration", "max-backlog-time", "max-pause-time" })
    {
      guint before = 0, after = 0;
      g_object_get (sink, name, &before, NULL);
      ASSERT_WARNING (gst_util_set_object_arg (G_OBJECT (sink), name, "250000000"));
      g_object_get (sink, name, &after, NULL);
      fail_unless_equals_int (after, before);
    }
  gst_object_unref (sink);
}
GST_END_TEST;

WSS_CHECK_MAIN (durations, "durations",
                { "general", 0,
                  WSS_TESTS (test_duration_specs, test_sink_durations, test_bin_durations,
                             test_src_durations, test_nanoseconds_out_of_range) });
