/* wssaudiochunk-speaker: audio input devices (GstDeviceMonitor,
 * Audio/Source) and picking one by index or name. */
#pragma once

#include "non-copyable.h"

#include <gst/gst.h>

#include <string>
#include <vector>

namespace wssac_speaker
{

/* What --list-devices shows of a device, and what --device matches. */
struct DeviceEntry
{
  std::string display_name; /* "Built-in Audio Analog Stereo" */
  std::string element;      /* how to open it by hand: "pulsesrc device=alsa_input.pci-..." */
  std::string id;           /* the element's device property, when it has one */
  std::string device_class; /* the provider's device.class ("sound", "monitor"...), may be empty */
  bool is_default = false;
  bool monitor = false; /* a monitor of an output, not a microphone */
};

/* The index in @devices that @spec names: empty = the default device (the
 * one the audio server calls default, else the first that is not a
 * monitor, else the first); digits = an index; otherwise a name, compared
 * (ignoring case) with the display name, then the id, then as a part of
 * either when only one device has it. -1 with @error set when none or
 * several match, or the list is empty. */
int pick_device (const std::vector<DeviceEntry> &devices, const std::string &spec,
                 std::string &error);

/* --list-devices' text for @devices (several lines, or one saying there
 * are none). */
std::string format_device_list (const std::vector<DeviceEntry> &devices);

/* The system's audio input devices, in the monitor's order. */
class DeviceList : private wssac::NonCopyable
{
public:
  DeviceList () = default;
  ~DeviceList ();

  /* Probes once (GstDeviceMonitor started and stopped). */
  void probe ();
  const std::vector<DeviceEntry> &
  entries () const
  {
    return entries_;
  }
  /* A new source element for entry @index (floating ref), or nullptr. */
  GstElement *create_element (int index, const char *name) const;

private:
  std::vector<DeviceEntry> entries_;
  std::vector<GstDevice *> devices_;
};

} // namespace wssac_speaker
