/* wssaudiochunk-speaker --check-mic: opens the microphone for about 1 s and
 * says whether it works, in the words of the browser speaker app's errors
 * (denied, not found, busy) plus "muted" and "very quiet". */
#pragma once

#include "console.h"
#include "friendly-error.h"
#include "level-meter.h"
#include "speaker-options.h"

#include <gst/gst.h>

#include <functional>

namespace wssac_speaker
{

/* Prints a pipeline error (the app's wording, with details when verbose). */
using ErrorReporter = std::function<void (GstMessage *error, ErrorOrigin origin)>;

/* Runs the check on its own pipeline; returns the exit status. @meter
 * collects the levels seen. */
int check_microphone (Console &console, const SpeakerOptions &opt, LevelMeter &meter,
                      const ErrorReporter &report);

} // namespace wssac_speaker
