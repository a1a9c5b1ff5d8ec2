#include "session-journal.h"
#include "file-names.h"

#include <glib.h>
#include <glib/gstdio.h>

#include <fcntl.h>
#include <limits.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>

namespace wssac_ingest
{

const char *
journal_extension (const std::string &format)
{
  if (format == "webm-opus")
    return ".webm";
  if (format == "ogg-opus")
    return ".ogg";
  return ".bin";
}

SessionJournal::~SessionJournal ()
{
  std::string ignored; /* the owner closes first and reports */
  close (ignored);
}

bool
SessionJournal::open (const std::string &dir, const std::string &base, const std::string &format,
                      bool sync, std::string &error)
{
  sync_ = sync;
  for (int part = 1; part < 100000; part++)
    {
      std::string stem = part == 1 ? base : base + ".part" + std::to_string (part);
      /* Files of any kind under this stem (an older recording without an
       * index, a summary) make it taken too. */
      bool taken = false;
      for (const char *ext : { ".wav", ".json", ".webm", ".ogg", ".bin" })
        taken |= g_file_test (path_join (dir, stem + ext).c_str (), G_FILE_TEST_EXISTS);
      if (taken)
        continue;
      std::string index = path_join (dir, stem + ".chunks");
      int fd = ::open (index.c_str (), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
      if (fd < 0 && errno == EEXIST)
        continue; /* claimed by someone else meanwhile */
      if (fd < 0)
        {
          error = index + ": " + g_strerror (errno);
          return false;
        }
      std::string data = path_join (dir, stem + journal_extension (format));
      int dfd = ::open (data.c_str (), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
      if (dfd < 0)
        {
          error = data + ": " + g_strerror (errno);
          ::close (fd);
          g_unlink (index.c_str ());
          return false;
        }
      index_fd_ = fd;
      data_fd_ = dfd;
      stem_ = stem;
      index_path_ = index;
      data_path_ = data;
      return true;
    }
  error = "no free file name for " + base;
  return false;
}

/* Writes all of @iov in as few writev() calls as the kernel takes (one,
 * unless a write is short or there are more than IOV_MAX pieces), then
 * syncs with --fsync. */
bool
SessionJournal::write_all (int fd, std::vector<iovec> &iov, const char *what)
{
  size_t first = 0;
  while (first < iov.size ())
    {
      const int count = static_cast<int> (std::min<size_t> (iov.size () - first, IOV_MAX));
      ssize_t n = writev (fd, &iov[first], count);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          failure_ = std::string ("cannot write the ") + what + ": " + g_strerror (n < 0 ? errno : ENOSPC);
          return false;
        }
      /* Past what was written; a short write resumes inside a piece. */
      size_t done = static_cast<size_t> (n);
      while (first < iov.size () && done >= iov[first].iov_len)
        done -= iov[first++].iov_len;
      if (first < iov.size ())
        {
          iov[first].iov_base = static_cast<uint8_t *> (iov[first].iov_base) + done;
          iov[first].iov_len -= done;
        }
    }
  if (sync_ && fdatasync (fd) != 0)
    {
      failure_ = std::string ("cannot sync the ") + what + ": " + g_strerror (errno);
      return false;
    }
  return true;
}

void
SessionJournal::clear_pending ()
{
  pending_data_.clear ();
  pending_bytes_ = 0;
  pending_index_.clear ();
}

bool
SessionJournal::discard_on_failure (std::string &error)
{
  error = failure_;
  discarded_bytes_ += pending_bytes_;
  clear_pending ();
  return false;
}

bool
SessionJournal::append (std::vector<uint8_t> &&bytes, size_t header_size, uint64_t chunk_index,
                        const std::string &stream_id, std::string &error)
{
  if (data_fd_ < 0 && failure_.empty ())
    failure_ = "the journal is not open";
  if (!failure_.empty ())
    {
      discarded_bytes_ += bytes.size ();
      return discard_on_failure (error);
    }
  const size_t size = bytes.size ();
  if (header_size > size)
    header_size = size;
  const char *sid = stream_id.empty () ? "-" : stream_id.c_str ();
  char line[160];
  if (header_size > 0)
    {
      g_snprintf (line, sizeof (line), "H %" PRIu64 " %zu %s\n", offset_, header_size, sid);
      pending_index_ += line;
    }
  g_snprintf (line, sizeof (line), "C %" PRIu64 " %" PRIu64 " %zu %s\n", chunk_index,
              offset_ + header_size, size - header_size, sid);
  pending_index_ += line;
  offset_ += size;
  pending_bytes_ += size;
  pending_data_.push_back (std::move (bytes));
  if (pending_bytes_ >= kCommitBytes)
    return commit (error);
  return true;
}

bool
SessionJournal::commit (std::string &error)
{
  if (!failure_.empty ())
    return discard_on_failure (error);
  if (pending_data_.empty ())
    return true;
  /* Data before index: a crash between the two leaves bytes no line points
   * to, never a line without its bytes. One write for all the lines keeps
   * them whole unless the process dies inside it (read_journal_index ()
   * drops a torn last line). */
  std::vector<iovec> data (pending_data_.size ());
  for (size_t i = 0; i < pending_data_.size (); i++)
    data[i] = { pending_data_[i].data (), pending_data_[i].size () };
  std::vector<iovec> index = { { &pending_index_[0], pending_index_.size () } };
  if (!write_all (data_fd_, data, "journal") || !write_all (index_fd_, index, "index"))
    return discard_on_failure (error);
  clear_pending ();
  return true;
}

bool
SessionJournal::close (std::string &error)
{
  bool ok = data_fd_ < 0 || commit (error);
  for (int *fd : { &data_fd_, &index_fd_ })
    if (*fd >= 0)
      {
        ::close (*fd);
        *fd = -1;
      }
  return ok;
}

bool
read_journal_index (const std::string &path, uint64_t data_size,
                    std::vector<JournalRecord> &records, std::string &error)
{
  gchar *text = nullptr;
  gsize len = 0;
  GError *err = nullptr;
  if (!g_file_get_contents (path.c_str (), &text, &len, &err))
    {
      error = err->message;
      g_error_free (err);
      return false;
    }
  records.clear ();
  std::string all (text, len);
  g_free (text);
  size_t pos = 0;
  while (pos < all.size ())
    {
      size_t nl = all.find ('\n', pos);
      if (nl == std::string::npos)
        break; /* torn last line */
      std::string line = all.substr (pos, nl - pos);
      pos = nl + 1;
      JournalRecord r;
      char sid[80] = "";
      uint64_t a = 0, b = 0, c = 0;
      if (sscanf (line.c_str (), "H %" SCNu64 " %" SCNu64 " %79s", &a, &b, sid) == 3)
        {
          r.header = true;
          r.offset = a;
          r.length = b;
        }
      else if (sscanf (line.c_str (), "C %" SCNu64 " %" SCNu64 " %" SCNu64 " %79s", &a, &b, &c, sid)
               == 4)
        {
          r.chunk_index = a;
          r.offset = b;
          r.length = c;
        }
      else
        continue;
      if (r.offset + r.length > data_size)
        break; /* its bytes did not all reach the disk */
      r.stream_id = g_strcmp0 (sid, "-") == 0 ? "" : sid;
      records.push_back (std::move (r));
    }
  return true;
}

} // namespace wssac_ingest
