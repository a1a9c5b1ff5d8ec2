/* Helpers shared by the bench programs: clocks, CPU and memory of this
 * process, the recorded muxer buffers and chunks (files written by
 * `sinkbench capture`), and small statistics. Bench code only. */
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>
#include <time.h>

namespace bench
{

inline int64_t
mono_ns ()
{
  timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t> (ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

/* Same clock as g_get_monotonic_time(): CLOCK_MONOTONIC, microseconds. */
inline int64_t
mono_us ()
{
  return mono_ns () / 1000;
}

inline int64_t
real_ms ()
{
  timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  return static_cast<int64_t> (ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

/* User + system CPU seconds of this process (all threads). */
inline double
cpu_seconds ()
{
  rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* Peak resident set, KiB. */
inline long
max_rss_kib ()
{
  rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

/* Current resident set, KiB. */
inline long
rss_kib ()
{
  long pages = 0, resident = 0;
  FILE *f = fopen ("/proc/self/statm", "r");
  if (f)
    {
      if (fscanf (f, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
      fclose (f);
    }
  return resident * (sysconf (_SC_PAGESIZE) / 1024);
}

/* One buffer as webmmux pushed it, with the flags the sink looks at. */
struct RecBuf
{
  bool header = false;
  bool delta = false;
  int64_t pts = -1;
  int64_t duration = -1;
  std::vector<uint8_t> data;
};

/* Both record files are an 8-byte magic, a u32 count and the records; a
 * byte string in a record is a u32 size and the bytes. */
template <typename T, typename WriteOne>
bool
write_records (const std::string &path, const char *magic, const std::vector<T> &records,
               WriteOne write_one)
{
  FILE *f = fopen (path.c_str (), "wb");
  if (!f)
    return false;
  fwrite (magic, 1, 8, f);
  uint32_t n = static_cast<uint32_t> (records.size ());
  fwrite (&n, 4, 1, f);
  for (const auto &r : records)
    write_one (f, r);
  return fclose (f) == 0;
}

/* False when @path cannot be read, is not a @magic file or ends inside a
 * record (the records before it are in @records). */
template <typename T, typename ReadOne>
bool
read_records (const std::string &path, const char *magic, std::vector<T> &records, ReadOne read_one)
{
  FILE *f = fopen (path.c_str (), "rb");
  if (!f)
    return false;
  char found[8];
  uint32_t n = 0;
  bool ok
      = fread (found, 1, 8, f) == 8 && memcmp (found, magic, 8) == 0 && fread (&n, 4, 1, f) == 1;
  for (uint32_t i = 0; ok && i < n; i++)
    {
      T r;
      ok = read_one (f, r);
      if (ok)
        records.push_back (std::move (r));
    }
  fclose (f);
  return ok;
}

inline void
write_bytes (FILE *f, const std::vector<uint8_t> &bytes)
{
  uint32_t size = static_cast<uint32_t> (bytes.size ());
  fwrite (&size, 4, 1, f);
  fwrite (bytes.data (), 1, size, f);
}

inline bool
read_bytes (FILE *f, std::vector<uint8_t> &bytes)
{
  uint32_t size;
  if (fread (&size, 4, 1, f) != 1)
    return false;
  bytes.resize (size);
  return fread (bytes.data (), 1, size, f) == size;
}

/* Record file: "WSACBUF1", u32 count, then per buffer u8 flags (1 header,
 * 2 delta), i64 pts, i64 duration, u32 size, bytes. */
inline bool
write_buffers (const std::string &path, const std::vector<RecBuf> &bufs)
{
  return write_records (path, "WSACBUF1", bufs, [] (FILE *f, const RecBuf &b) {
    uint8_t flags = (b.header ? 1 : 0) | (b.delta ? 2 : 0);
    fwrite (&flags, 1, 1, f);
    fwrite (&b.pts, 8, 1, f);
    fwrite (&b.duration, 8, 1, f);
    write_bytes (f, b.data);
  });
}

inline bool
read_buffers (const std::string &path, std::vector<RecBuf> &bufs)
{
  return read_records (path, "WSACBUF1", bufs, [] (FILE *f, RecBuf &b) {
    uint8_t flags = 0;
    bool ok = fread (&flags, 1, 1, f) == 1 && fread (&b.pts, 8, 1, f) == 1
              && fread (&b.duration, 8, 1, f) == 1 && read_bytes (f, b.data);
    b.header = flags & 1;
    b.delta = flags & 2;
    return ok;
  });
}

/* Chunk file: "WSACCHK1", u32 count, then per chunk u32 size, bytes. */
inline bool
write_chunks (const std::string &path, const std::vector<std::vector<uint8_t>> &chunks)
{
  return write_records (path, "WSACCHK1", chunks, write_bytes);
}

inline bool
read_chunks (const std::string &path, std::vector<std::vector<uint8_t>> &chunks)
{
  return read_records (path, "WSACCHK1", chunks, read_bytes);
}

template <typename T>
T
percentile (std::vector<T> v, double q)
{
  if (v.empty ())
    return T ();
  std::sort (v.begin (), v.end ());
  size_t i = static_cast<size_t> (q * (v.size () - 1) + 0.5);
  return v[std::min (i, v.size () - 1)];
}

/* Command-line "--name value" pairs. */
struct Args
{
  std::vector<std::string> argv;
  Args (int argc, char **a)
  {
    for (int i = 1; i < argc; i++)
      argv.emplace_back (a[i]);
  }
  std::string get (const std::string &name, const std::string &def = std::string ()) const
  {
    for (size_t i = 0; i + 1 < argv.size (); i++)
      if (argv[i] == "--" + name)
        return argv[i + 1];
    return def;
  }
  long num (const std::string &name, long def) const
  {
    std::string v = get (name);
    return v.empty () ? def : std::strtol (v.c_str (), nullptr, 10);
  }
  double real (const std::string &name, double def) const
  {
    std::string v = get (name);
    return v.empty () ? def : std::strtod (v.c_str (), nullptr);
  }
  bool flag (const std::string &name) const
  {
    return std::find (argv.begin (), argv.end (), "--" + name) != argv.end ();
  }
};

} // namespace bench
