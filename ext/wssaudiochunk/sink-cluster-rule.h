/* wssaudiochunksink: where the muxer upstream starts its clusters.
 *
 * webmmux (matroskamux) with one audio track starts a cluster on the first
 * block at least min-cluster-duration after the current cluster's start
 * (max-cluster-duration, when smaller, starts one sooner). Knowing that,
 * the Chunker closes a chunk right after its last frame instead of waiting
 * for the next cluster's first buffer, which the muxer sends only with the
 * next frame. Without such a muxer right upstream the rule is unknown and
 * chunks close on the next cluster, as they always did.
 */
#pragma once

#include <gst/gst.h>

#include <cstdint>

namespace wssac::sink
{

/* The rule for Chunker::set_cluster_rule () from the muxer feeding
 * @sinkpad, found through ghost pads and elements that pass buffers on as
 * they are (queue, queue2, identity, capsfilter, tee); kNoTime (-1) when
 * there is none, or it muxes more than one track, or not audio. */
int64_t upstream_cluster_rule (GstPad *sinkpad);

} // namespace wssac::sink
