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

/* Both record files start with an 8-byte magic and a u32 count; each
 * byte string in them is a u32 size and the bytes. */
inline FILE *
create_record_file (const std::string &path, const char *magic, size_t count)
{
  FILE *f = fopen (path.c_str (), "wb");
  if (!f)
    return nullptr;
  fwrite (magic, 1, 8, f);
  uint32_t n = static_cast<uint32_t> (count);
  fwrite (&n, 4, 1, f);
  return f;
}

/* nullptr when @path cannot be opened or is not a @magic file. */
inline FILE *
open_record_file (const std::string &path, const char *magic, uint32_t &count)
{
  FILE *f = fopen (path.c_str (), "rb");
  if (!f)
    return nullptr;
  char found[8];
  if (fread (found, 1, 8, f) == 8 && memcmp (found, magic, 8) == 0 && fread (&count, 4, 1, f) == 1)
    return f;
  fclose (f);
  return nullptr;
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
  FILE *f = create_record_file (path, "WSACBUF1", bufs.size ());
  if (!f)
    return false;
  for (const auto &b : bufs)
    {
      uint8_t flags = (b.header ? 1 : 0) | (b.delta ? 2 : 0);
      fwrite (&flags, 1, 1, f);
      fwrite (&b.pts, 8, 1, f);
      fwrite (&b.duration, 8, 1, f);
      write_bytes (f, b.data);
    }
  return fclose (f) == 0;
}

inline bool
read_buffers (const std::string &path, std::vector<RecBuf> &bufs)
{
  uint32_t n = 0;
  FILE *f = open_record_file (path, "WSACBUF1", n);
  if (!f)
    return false;
  bool ok = true;
  for (uint32_t i = 0; ok && i < n; i++)
    {
      RecBuf b;
      uint8_t flags;
      ok = fread (&flags, 1, 1, f) == 1 && fread (&b.pts, 8, 1, f) == 1 && fread (&b.duration, 8, 1, f) == 1
           && read_bytes (f, b.data);
      if (!ok)
        break;
      b.header = flags & 1;
      b.delta = flags & 2;
      bufs.push_back (std::move (b));
    }
  fclose (f);
  return ok;
}

/* Chunk file: "WSACCHK1", u32 count, then per chunk u32 size, bytes. */
inline bool
write_chunks (const std::string &path, const std::vector<std::vector<uint8_t>> &chunks)
{
  FILE *f = create_record_file (path, "WSACCHK1", chunks.size ());
  if (!f)
    return false;
  for (const auto &c : chunks)
    write_bytes (f, c);
  return fclose (f) == 0;
}

inline bool
read_chunks (const std::string &path, std::vector<std::vector<uint8_t>> &chunks)
{
  uint32_t n = 0;
  FILE *f = open_record_file (path, "WSACCHK1", n);
  if (!f)
    return false;
  bool ok = true;
  for (uint32_t i = 0; ok && i < n; i++)
    {
      std::vector<uint8_t> c;
      ok = read_bytes (f, c);
      if (!ok)
        break;
      chunks.push_back (std::move (c));
    }
  fclose (f);
  return ok;
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
