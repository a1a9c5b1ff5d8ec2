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
 * claimed atomically by creating <stem>.chunks with O_EXCL.
 *
 * Records are gathered in memory and written by commit(): one writev() to
 * the data and one to the index for all of them, data first. The program
 * commits before an ack leaves (an ack stands for what is on disk; the
 * sender keeps anything unacknowledged), and otherwise at its writer tick
 * or when kCommitBytes are held: on a busy receiver, two writes per ack
 * instead of two per chunk (docs/performance.md). A failed write ends the
 * journal: no record after it is written, so the index never points past
 * the bytes. */
#pragma once

#include "non-copyable.h"

#include <sys/uio.h>

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
   * fdatasync both files at every commit. */
  bool open (const std::string &dir, const std::string &base, const std::string &format, bool sync,
             std::string &error);
  /* Takes a record, @bytes, whose first @header_size are a stream header
   * (and makes its index lines) for the next commit(); commits when
   * kCommitBytes are held. false: the journal failed (@error), now or
   * earlier, and the record is not kept. */
  bool append (std::vector<uint8_t> &&bytes, size_t header_size, uint64_t chunk_index,
               const std::string &stream_id, std::string &error);
  /* Writes what append() gathered; returns once write() (and with @sync,
   * fdatasync()) returned for all of it. false: the journal failed. */
  bool commit (std::string &error);
  /* Commits, then closes both files. */
  bool close (std::string &error);

  static constexpr size_t kCommitBytes = 64 * 1024;

  /* Records appended and not yet committed, and the bytes they hold. */
  size_t
  pending_records () const
  {
    return pending_data_.size ();
  }
  size_t
  pending_bytes () const
  {
    return pending_bytes_;
  }
  bool
  failed () const
  {
    return !failure_.empty ();
  }
  /* Bytes of records not written because the journal failed. */
  uint64_t
  discarded_bytes () const
  {
    return discarded_bytes_;
  }

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
  bool write_all (int fd, std::vector<iovec> &iov, const char *what);
  void clear_pending ();
  bool discard_on_failure (std::string &error);
  int data_fd_ = -1;
  int index_fd_ = -1;
  bool sync_ = false;
  uint64_t offset_ = 0; /* of the next record, committed or not */
  /* One per record, held as they came (the events' own buffers, no copy),
   * written with one writev(). */
  std::vector<std::vector<uint8_t>> pending_data_;
  size_t pending_bytes_ = 0;
  std::string pending_index_;
  uint64_t discarded_bytes_ = 0;
  std::string failure_; /* the first failure; the journal takes nothing after it */
  std::string stem_, data_path_, index_path_;
};

/* Reads an index; a last line cut by a crash is ignored, as are records
 * whose bytes run past @data_size. false only when the file is unreadable. */
bool read_journal_index (const std::string &path, uint64_t data_size,
                         std::vector<JournalRecord> &records, std::string &error);

} // namespace wssac_ingest
