/* wssaudiochunk-join: the plan that turns the recorded parts of one session
 * into one recording. Plain C++ (no I/O): the parts come in as parsed chunk
 * indexes, the plan says which bytes of which part go where.
 *
 * A part is one ingest process's recording of one session: a media file (the
 * bytes as received, stream header then chunks) and its index, one record per
 * write. Parts overlap where a speaker replayed chunks to another shard that
 * the first one had already written; the plan keeps each (stream, chunkIndex)
 * once, in chunkIndex order per stream, and orders the streams (reruns of the
 * same session id) as the parts saw them. */
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace wssac_join
{

struct Record
{
  bool header = false; /* stream header (H) or chunk (C) */
  int64_t index = -1;  /* chunkIndex, chunks only */
  uint64_t offset = 0;
  uint64_t length = 0;
  std::string stream; /* streamId, or "-" when the sender gave none */
};

struct ParseResult
{
  std::vector<Record> records;
  size_t malformed = 0;   /* lines that are not a record (counted, skipped) */
  bool torn_tail = false; /* a last line without newline: a write cut short */
};

/* Parses a part's ".chunks" index: "H <offset> <length> <stream>" and
 * "C <chunkIndex> <offset> <length> <stream>", one a line. */
ParseResult parse_chunk_index (const std::string &text);

struct Part
{
  std::string name;         /* for the report: the index file's path */
  uint64_t media_bytes = 0; /* size of the media file */
  int64_t order_hint = 0;   /* smaller = started earlier (e.g. mtime of the index) */
  std::vector<Record> records;
};

/* A run of bytes inside one part's media file. */
struct Piece
{
  size_t part = 0;
  uint64_t offset = 0;
  uint64_t length = 0;
};

struct Overlap
{
  std::string stream;
  int64_t index = -1;
  Piece kept;
  Piece dropped;
};

struct StreamPlan
{
  std::string stream_id;
  bool has_header = false; /* some part recorded a (re-sent) stream header */
  Piece header;
  /* The joined stream starts with chunk 0, whose bytes begin with the
   * stream header (the protocol's first chunk); only without chunk 0 does
   * the recorded header go first. False with neither: not decodable. */
  bool decodable = false;
  bool use_header = false;
  std::map<int64_t, Piece> chunks; /* by chunkIndex */
  /* Missing chunkIndex ranges from 0 to the last, inclusive. */
  std::vector<std::pair<int64_t, int64_t>> gaps;
};

struct PartReport
{
  int64_t first_index = -1;
  int64_t last_index = -1;
  size_t chunks = 0;                /* chunk records of the part */
  size_t used = 0;                  /* chunks the joined recording takes from this part */
  size_t overlapping = 0;           /* chunks dropped because an earlier part had them */
  size_t beyond_media = 0;          /* records pointing past the end of the media file */
  std::vector<std::string> streams; /* in the order the part saw them */
};

struct SessionPlan
{
  std::vector<StreamPlan> streams; /* in recording order */
  std::vector<PartReport> parts;   /* one per input part, same order */
  std::vector<Overlap> overlaps;
};

/* Parts are preferred in order_hint order: the earliest part that holds a
 * (stream, chunkIndex) provides it. */
SessionPlan plan_session (const std::vector<Part> &parts);

} // namespace wssac_join
