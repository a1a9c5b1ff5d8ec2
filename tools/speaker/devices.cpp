#include "devices.h"

#include "text-match.h"

#include <algorithm>
#include <cctype>

namespace wssac_speaker
{

namespace
{

bool
all_digits (const std::string &s)
{
  return !s.empty ()
         && std::all_of (s.begin (), s.end (), [] (unsigned char c) { return std::isdigit (c); });
}

/* "pulsesrc device=foo": the factory and the properties the device set
 * (those that differ from a new element of the same factory). */
std::string
describe_element (GstElement *e, std::string &id)
{
  GstElementFactory *f = gst_element_get_factory (e);
  std::string out
      = f ? gst_plugin_feature_get_name (GST_PLUGIN_FEATURE (f)) : G_OBJECT_TYPE_NAME (e);
  GstElement *plain = f ? gst_element_factory_create (f, nullptr) : nullptr;
  if (!plain)
    return out;
  gst_object_ref_sink (plain);
  guint n = 0;
  GParamSpec **specs = g_object_class_list_properties (G_OBJECT_GET_CLASS (e), &n);
  for (guint i = 0; i < n; i++)
    {
      GParamSpec *p = specs[i];
      if (!(p->flags & G_PARAM_READABLE) || !(p->flags & G_PARAM_WRITABLE)
          || (p->flags & G_PARAM_CONSTRUCT_ONLY) || g_str_equal (p->name, "name")
          || g_str_equal (p->name, "parent"))
        continue;
      GType t = G_PARAM_SPEC_VALUE_TYPE (p);
      if (t != G_TYPE_STRING && t != G_TYPE_INT && t != G_TYPE_UINT && t != G_TYPE_BOOLEAN
          && !G_TYPE_IS_ENUM (t))
        continue;
      GValue v = G_VALUE_INIT, v0 = G_VALUE_INIT;
      g_value_init (&v, t);
      g_value_init (&v0, t);
      g_object_get_property (G_OBJECT (e), p->name, &v);
      g_object_get_property (G_OBJECT (plain), p->name, &v0);
      if (gst_value_compare (&v, &v0) != GST_VALUE_EQUAL)
        {
          if (g_str_equal (p->name, "device") && t == G_TYPE_STRING && g_value_get_string (&v))
            id = g_value_get_string (&v);
          gchar *s = gst_value_serialize (&v);
          if (s)
            {
              /* quoted when it holds spaces, as gst-launch wants it */
              std::string value = s;
              if (value.find (' ') != std::string::npos && value[0] != '"')
                value = "\"" + value + "\"";
              out += std::string (" ") + p->name + "=" + value;
              g_free (s);
            }
        }
      g_value_unset (&v);
      g_value_unset (&v0);
    }
  g_free (specs);
  gst_object_unref (plain);
  return out;
}

} // namespace

int
pick_device (const std::vector<DeviceEntry> &devices, const std::string &spec, std::string &error)
{
  if (devices.empty ())
    {
      error = "No microphone found. Please connect a microphone.";
      return -1;
    }
  if (spec.empty ())
    {
      for (size_t i = 0; i < devices.size (); i++)
        if (devices[i].is_default)
          return static_cast<int> (i);
      for (size_t i = 0; i < devices.size (); i++)
        if (!devices[i].monitor)
          return static_cast<int> (i);
      return 0;
    }
  if (all_digits (spec))
    {
      const unsigned long i = std::stoul (spec);
      if (spec.size () < 6 && i < devices.size ())
        return static_cast<int> (i);
      error = "No device " + spec + ": there "
              + (devices.size () == 1 ? "is 1 device"
                                      : "are " + std::to_string (devices.size ()) + " devices")
              + " (see --list-devices)";
      return -1;
    }
  const std::string want = lower (spec);
  for (size_t i = 0; i < devices.size (); i++)
    if (lower (devices[i].display_name) == want)
      return static_cast<int> (i);
  for (size_t i = 0; i < devices.size (); i++)
    if (!devices[i].id.empty () && lower (devices[i].id) == want)
      return static_cast<int> (i);
  std::vector<size_t> partial;
  for (size_t i = 0; i < devices.size (); i++)
    if (lower (devices[i].display_name).find (want) != std::string::npos
        || lower (devices[i].id).find (want) != std::string::npos)
      partial.push_back (i);
  if (partial.size () == 1)
    return static_cast<int> (partial[0]);
  if (partial.empty ())
    error = "No device matches \"" + spec + "\" (see --list-devices)";
  else
    {
      error = "\"" + spec + "\" matches " + std::to_string (partial.size ()) + " devices:";
      for (size_t i : partial)
        error += " " + std::to_string (i) + " (" + devices[i].display_name + ")";
      error += "; give an index or the whole name";
    }
  return -1;
}

std::string
format_device_list (const std::vector<DeviceEntry> &devices)
{
  if (devices.empty ())
    return "No audio input devices found. Connect a microphone, and check that the audio server "
           "(PulseAudio or PipeWire) is running for this user.\n";
  std::string out = "Audio input devices:\n";
  for (size_t i = 0; i < devices.size (); i++)
    {
      const DeviceEntry &d = devices[i];
      out += "  " + std::to_string (i) + ": " + d.display_name;
      if (d.is_default)
        out += "  [default]";
      if (d.monitor)
        out += "  [monitor of an output]";
      out += "\n";
      out += "     element: " + d.element + "\n";
      out += "     pick it: --device=" + std::to_string (i);
      if (!d.id.empty ())
        out += "  or  --device=" + d.id;
      out += "  or  --device=\"" + d.display_name + "\"\n";
    }
  return out;
}

DeviceList::~DeviceList ()
{
  for (GstDevice *d : devices_)
    gst_object_unref (d);
}

void
DeviceList::probe ()
{
  for (GstDevice *d : devices_)
    gst_object_unref (d);
  devices_.clear ();
  entries_.clear ();

  GstDeviceMonitor *monitor = gst_device_monitor_new ();
  gst_device_monitor_add_filter (monitor, "Audio/Source", nullptr);
  /* start() fails only when no provider could start (none installed, or
   * none reaches an audio server): then there are no devices. */
  if (gst_device_monitor_start (monitor))
    {
      GList *list = gst_device_monitor_get_devices (monitor);
      gst_device_monitor_stop (monitor);
      for (GList *l = list; l; l = l->next)
        {
          GstDevice *dev = GST_DEVICE (l->data);
          DeviceEntry e;
          gchar *name = gst_device_get_display_name (dev);
          e.display_name = name ? name : "(unnamed)";
          g_free (name);
          GstStructure *props = gst_device_get_properties (dev);
          if (props)
            {
              gboolean def = FALSE;
              if (gst_structure_get_boolean (props, "is-default", &def))
                e.is_default = def;
              const gchar *cls = gst_structure_get_string (props, "device.class");
              if (cls)
                e.device_class = cls;
              e.monitor = e.device_class == "monitor";
              gst_structure_free (props);
            }
          GstElement *el = gst_device_create_element (dev, nullptr);
          if (el)
            {
              gst_object_ref_sink (el);
              e.element = describe_element (el, e.id);
              gst_object_unref (el);
            }
          else
            e.element = "(cannot be opened)";
          entries_.push_back (e);
          devices_.push_back (dev); /* takes the list's reference */
        }
      g_list_free (list);
    }
  gst_object_unref (monitor);
}

GstElement *
DeviceList::create_element (int index, const char *name) const
{
  if (index < 0 || static_cast<size_t> (index) >= devices_.size ())
    return nullptr;
  return gst_device_create_element (devices_[static_cast<size_t> (index)], name);
}

} // namespace wssac_speaker
