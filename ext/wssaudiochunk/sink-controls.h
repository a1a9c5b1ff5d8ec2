/* wssaudiochunksink: the broadcast controls (pause, resume, mute, unmute,
 * end the session) and the one path by which chunks and controls enter the
 * transport, in order.
 *
 * Four ways in, one way through: the action signals, the paused/muted
 * properties, wss-audio-chunk-control messages on the pipeline bus
 * (sink-bus-listener.h) and wss-audio-chunk-control custom downstream events
 * all end in control(). The decisions are wssac::BroadcastState's; this file
 * maps them onto the element.
 */
#pragma once

#include "gstwssaudiochunksink.h"

#include "action.h"
#include "backlog.h"
#include "drop-episodes.h"
#include "chunker.h"

#include <string>
#include <vector>

namespace wssac::sink
{

/* What a section under the stream lock decided, reported once the lock is
 * released (bus messages go out without holding it). */
struct Pending
{
  std::vector<DropEpisode> drops;
  bool transmitting_changed = false;
};

/* Every control path ends here. @action: one of the controls (not
 * AudioChunk); @reason: for EndSession. Before start() only pause and mute
 * are remembered (start() applies them). */
void control (GstWssAudioChunkSink *self, Action action, const std::string &reason);

/* A wss-audio-chunk-control structure (bus message or event):
 *   action=(string){pause,resume,mute,unmute,end-session} (or the wire
 *   names pauseBroadcast, ...), [reason=(string)...], [target=(string)<name>]
 * TRUE when it was a control for this element and was applied; an unknown
 * action posts a warning naming the valid ones. */
gboolean control_from_structure (GstWssAudioChunkSink *self, const GstStructure *s);

/* Stream lock held: a completed chunk into the broadcast state and on to
 * the transport. */
void submit_chunk (GstWssAudioChunkSink *self, Chunk &&chunk, Pending &pending);
/* Stream lock held: the partial chunk (audio before a mute or the end). */
void submit_partial (GstWssAudioChunkSink *self, Pending &pending);
/* Lock released: the bus messages for @pending. */
void report (GstWssAudioChunkSink *self, const Pending &pending);

} // namespace wssac::sink
