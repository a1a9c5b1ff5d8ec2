/* wssaudiochunk-ingest's journal (tools/session-journal.h): records are
 * gathered and reach the files only at commit (before the ack that stands
 * for them), data before index; a failed write ends the journal without an
 * index line pointing past the bytes. */
#include "check-suite.h"
#include "session-journal.h"

#include <glib/gstdio.h>

#include <sys/resource.h>

#include <csignal>
#include <string>
#include <vector>

using wssac_ingest::JournalRecord;
using wssac_ingest::SessionJournal;

namespace
{

std::vector<uint8_t>
record_bytes (size_t size, uint8_t seed)
{
  std::vector<uint8_t> b (size);
  for (size_t i = 0; i < size; i++)
    b[i] = static_cast<uint8_t> (seed * 7 + i);
  return b;
}

struct TempDir
{
  TempDir () { path = g_dir_make_tmp ("journal-XXXXXX", nullptr); }
  ~TempDir ()
  {
    GDir *d = g_dir_open (path, 0, nullptr);
    while (const char *name = d ? g_dir_read_name (d) : nullptr)
      {
        gchar *f = g_build_filename (path, name, nullptr);
        g_unlink (f);
        g_free (f);
      }
    if (d)
      g_dir_close (d);
    g_rmdir (path);
    g_free (path);
  }
  gchar *path;
};

std::string
contents (const std::string &path)
{
  gchar *text = nullptr;
  gsize len = 0;
  fail_unless (g_file_get_contents (path.c_str (), &text, &len, nullptr), "%s unreadable", path.c_str ());
  std::string s (text, len);
  g_free (text);
  return s;
}

std::vector<JournalRecord>
records_of (const SessionJournal &j)
{
  const std::string data = contents (j.data_path ());
  std::vector<JournalRecord> records;
  std::string error;
  fail_unless (wssac_ingest::read_journal_index (j.index_path (), data.size (), records, error), "%s",
               error.c_str ());
  return records;
}

void
open_journal (SessionJournal &j, const TempDir &dir)
{
  std::string error;
  fail_unless (j.open (dir.path, "sess", "webm-opus", false, error), "%s", error.c_str ());
}

} // namespace

GST_START_TEST (test_gathered_until_commit)
{
  TempDir dir;
  SessionJournal j;
  open_journal (j, dir);
  std::string error;
  std::vector<uint8_t> want;
  for (uint8_t i = 0; i < 3; i++)
    {
      auto b = record_bytes (100 + i, i);
      want.insert (want.end (), b.begin (), b.end ());
      /* The first record carries a 10-byte stream header. */
      fail_unless (j.append (std::move (b), i == 0 ? 10 : 0, i, i == 0 ? "run1" : "", error), "%s",
                   error.c_str ());
    }
  fail_unless_equals_int (j.pending_records (), 3);
  fail_unless_equals_int (j.pending_bytes (), want.size ());
  /* Nothing on disk yet: an ack may not leave now. */
  fail_unless_equals_int (contents (j.data_path ()).size (), 0);
  fail_unless_equals_int (contents (j.index_path ()).size (), 0);

  fail_unless (j.commit (error), "%s", error.c_str ());
  fail_unless_equals_int (j.pending_records (), 0);
  fail_unless (contents (j.data_path ()) == std::string (want.begin (), want.end ()));
  const std::string index = contents (j.index_path ());
  fail_unless_equals_string (index.c_str (), "H 0 10 run1\nC 0 10 90 run1\nC 1 100 101 -\nC 2 201 102 -\n");
  /* Nothing gathered: a commit writes nothing. */
  fail_unless (j.commit (error));
  fail_unless_equals_int (records_of (j).size (), 4);
}
GST_END_TEST;

GST_START_TEST (test_commits_when_enough_is_held)
{
  TempDir dir;
  SessionJournal j;
  open_journal (j, dir);
  std::string error;
  const size_t size = 10000;
  size_t appended = 0;
  while (appended + size < SessionJournal::kCommitBytes)
    {
      fail_unless (j.append (record_bytes (size, 1), 0, appended / size, "", error));
      appended += size;
    }
  fail_unless_equals_int (contents (j.data_path ()).size (), 0);
  fail_unless (j.append (record_bytes (size, 1), 0, appended / size, "", error));
  appended += size;
  fail_unless_equals_int (j.pending_records (), 0);
  fail_unless_equals_int (contents (j.data_path ()).size (), appended);
  fail_unless_equals_int (records_of (j).size (), appended / size);
}
GST_END_TEST;

GST_START_TEST (test_close_commits)
{
  TempDir dir;
  std::string data_path, index_path, error;
  {
    SessionJournal j;
    open_journal (j, dir);
    fail_unless (j.append (record_bytes (50, 3), 0, 0, "", error));
    data_path = j.data_path ();
    index_path = j.index_path ();
    fail_unless (j.close (error), "%s", error.c_str ());
    fail_unless (!j.append (record_bytes (5, 3), 0, 1, "", error));
  }
  fail_unless_equals_int (contents (data_path).size (), 50);
  const std::string index = contents (index_path);
  fail_unless_equals_string (index.c_str (), "C 0 0 50 -\n");
}
GST_END_TEST;

/* The files may grow to 1,000 bytes only (RLIMIT_FSIZE: the write fails
 * with EFBIG past it, as it would with ENOSPC): the second commit's data
 * is cut, and its index lines must not be written. */
GST_START_TEST (test_failed_write_ends_the_journal)
{
  TempDir dir;
  SessionJournal j;
  open_journal (j, dir);
  std::string error;
  signal (SIGXFSZ, SIG_IGN);
  struct rlimit old_limit;
  getrlimit (RLIMIT_FSIZE, &old_limit);
  struct rlimit small = { 1000, old_limit.rlim_max };
  fail_unless (setrlimit (RLIMIT_FSIZE, &small) == 0);

  fail_unless (j.append (record_bytes (400, 1), 0, 0, "", error));
  fail_unless (j.commit (error), "%s", error.c_str ());
  fail_unless (j.append (record_bytes (400, 2), 0, 1, "", error));
  fail_unless (j.append (record_bytes (400, 3), 0, 2, "", error));
  fail_if (j.commit (error));
  fail_unless (error.find ("cannot write the journal") != std::string::npos, "%s", error.c_str ());
  fail_unless (j.failed ());
  fail_unless_equals_int (j.pending_records (), 0);
  /* Nothing is taken after a failure, whatever the room. */
  setrlimit (RLIMIT_FSIZE, &old_limit);
  std::string later;
  fail_if (j.append (record_bytes (10, 4), 0, 3, "", later));
  fail_unless_equals_string (later.c_str (), error.c_str ());
  fail_if (j.commit (later));

  /* The index holds the first record only: what it points to is all there. */
  const auto records = records_of (j);
  fail_unless_equals_int (records.size (), 1);
  fail_unless_equals_int (records[0].length, 400);
  fail_unless_equals_int (contents (j.data_path ()).size (), 1000);
}
GST_END_TEST;

WSS_CHECK_MAIN (session_journal, "tools-session-journal",
                { "journal", 0,
                  WSS_TESTS (test_gathered_until_commit, test_commits_when_enough_is_held, test_close_commits,
                             test_failed_write_ends_the_journal) });
