/* wssaudiochunk-ingest: the raw journal of one recording part (one ingest
 * process's recording of one session), the record an ack stands for.
 *
 * In the output directory, under a stem unique there:
 *   <stem>.webm (.ogg)  the bytes as received, in reassembled order: the
 *                       stream header, then each chunk's audio;
 *   <stem>.chunks       a text index, one line per record, appended after
 *                       the record's bytes were written:
 *                         H <offset> <length> <streamId or ->   a stream header
 *                         C <chunkIndex> <offset> <length> <streamId or ->
 * The stem is the session's safe file name, or, when that is taken (another
 * process sharing the directory, an earlier run), <name>.part2, .part3, ...
 * claimed atomically by creating <stem>.chunks with O_EXCL. */
#pragma once

#include "non-copyable.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace wssac_ingest
{

struct JournalRecord
{
  bool header = false; /* H: a stream header; else C: a chunk */
  uint64_t chunk_index = 0;
  uint64_t offset = 0;
  uint64_t length = 0;
  std::string stream_id; /* empty for "-" */
};

/* ".webm" for webm-opus, ".ogg" for ogg-opus, ".bin" for anything else. */
const char *journal_extension (const std::string &format);

class SessionJournal : private wssac::NonCopyable
{
public:
  SessionJournal () = default;
  ~SessionJournal ();

  /* Claims a stem from @base (see above) and creates both files. @sync:
   * fdatasync both files after every record. */
  bool open (const std::string &dir, const std::string &base, const std::string &format, bool sync,
             std::string &error);
  /* Writes @size bytes whose first @header_size are a stream header, then
   * their index lines; returns once write() returned for all of it. */
  bool append (const uint8_t *bytes, size_t size, size_t header_size, uint64_t chunk_index,
               const std::string &stream_id, std::string &error);
  void close ();

  const std::string &
  stem () const
  {
    return stem_;
  }
  const std::string &
  data_path () const
  {
    return data_path_;
  }
  const std::string &
  index_path () const
  {
    return index_path_;
  }
  uint64_t
  bytes () const
  {
    return offset_;
  }

private:
  bool write_all (int fd, const void *data, size_t size, std::string &error);
  int data_fd_ = -1;
  int index_fd_ = -1;
  bool sync_ = false;
  uint64_t offset_ = 0;
  std::string stem_, data_path_, index_path_;
};

/* Reads an index; a last line cut by a crash is ignored, as are records
 * whose bytes run past @data_size. false only when the file is unreadable. */
bool read_journal_index (const std::string &path, uint64_t data_size,
                         std::vector<JournalRecord> &records, std::string &error);

} // namespace wssac_ingest
