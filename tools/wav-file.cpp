#include "wav-file.h"

#include <glib.h>
#include <glib/gstdio.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace wssac_ingest
{

namespace
{

uint32_t le32 (const unsigned char *p);

uint32_t
le32_at_4 (FILE *f)
{
  unsigned char b[4];
  if (fseek (f, 4, SEEK_SET) != 0 || fread (b, 1, 4, f) != 4)
    return 0;
  return le32 (b);
}

uint32_t
le32 (const unsigned char *p)
{
  return static_cast<uint32_t> (p[0]) | static_cast<uint32_t> (p[1]) << 8 | static_cast<uint32_t> (p[2]) << 16
         | static_cast<uint32_t> (p[3]) << 24;
}

unsigned
le16 (const unsigned char *p)
{
  return static_cast<unsigned> (p[0]) | static_cast<unsigned> (p[1]) << 8;
}

void
put_le32 (unsigned char *p, uint32_t v)
{
  p[0] = v & 0xff;
  p[1] = (v >> 8) & 0xff;
  p[2] = (v >> 16) & 0xff;
  p[3] = (v >> 24) & 0xff;
}

struct FileCloser
{
  FILE *f;
  ~FileCloser ()
  {
    if (f)
      fclose (f);
  }
};

/* Walks the chunks of an open RIFF file; @data_size_pos is where the data
 * chunk's size field sits. */
bool
parse (FILE *f, WavInfo &info, long &data_size_pos, std::string &error)
{
  if (fseek (f, 0, SEEK_END) != 0)
    {
      error = "cannot seek";
      return false;
    }
  long end = ftell (f);
  if (end < 0)
    {
      error = "cannot tell the file size";
      return false;
    }
  info.file_bytes = static_cast<uint64_t> (end);
  rewind (f);
  unsigned char hdr[12];
  if (fread (hdr, 1, 12, f) != 12 || memcmp (hdr, "RIFF", 4) != 0 || memcmp (hdr + 8, "WAVE", 4) != 0)
    {
      error = "not a RIFF/WAVE file";
      return false;
    }
  bool have_fmt = false;
  uint64_t pos = 12;
  while (pos + 8 <= info.file_bytes)
    {
      unsigned char ch[8];
      if (fseek (f, static_cast<long> (pos), SEEK_SET) != 0 || fread (ch, 1, 8, f) != 8)
        break;
      uint32_t size = le32 (ch + 4);
      if (memcmp (ch, "fmt ", 4) == 0)
        {
          unsigned char fmt[16];
          if (size < 16 || fread (fmt, 1, 16, f) != 16)
            {
              error = "short fmt chunk";
              return false;
            }
          info.format_tag = le16 (fmt);
          info.channels = le16 (fmt + 2);
          info.rate = le32 (fmt + 4);
          info.bits = le16 (fmt + 14);
          have_fmt = true;
        }
      else if (memcmp (ch, "data", 4) == 0)
        {
          if (!have_fmt)
            {
              error = "data chunk before fmt chunk";
              return false;
            }
          info.data_offset = pos + 8;
          info.data_bytes = size;
          data_size_pos = static_cast<long> (pos + 4);
          return true;
        }
      pos += 8 + static_cast<uint64_t> (size) + (size & 1);
    }
  error = have_fmt ? "no data chunk" : "no fmt chunk";
  return false;
}

} // namespace

bool
read_wav_info (const std::string &path, WavInfo &info, std::string &error)
{
  FileCloser fc{ g_fopen (path.c_str (), "rb") };
  if (!fc.f)
    {
      error = path + ": " + g_strerror (errno);
      return false;
    }
  long data_size_pos = 0;
  info = WavInfo ();
  if (!parse (fc.f, info, data_size_pos, error))
    {
      error = path + ": " + error;
      return false;
    }
  return true;
}

namespace
{
bool
fix_sizes (const std::string &path, bool data_is_last, bool &repaired, std::string &error)
{
  repaired = false;
  FileCloser fc{ g_fopen (path.c_str (), "r+b") };
  if (!fc.f)
    {
      error = path + ": " + g_strerror (errno);
      return false;
    }
  WavInfo info;
  long data_size_pos = 0;
  if (!parse (fc.f, info, data_size_pos, error))
    {
      error = path + ": " + error;
      return false;
    }
  uint64_t available = info.file_bytes - info.data_offset;
  /* A complete header may be followed by more chunks (wavenc puts tags
   * after the data): only a size running past the end is a placeholder. */
  if (!data_is_last && info.data_bytes <= available && info.data_bytes != 0)
    return true;
  if (data_is_last && info.data_bytes == available && info.file_bytes - 8 == le32_at_4 (fc.f))
    return true;
  if (available > 0xFFFFFFF0ULL)
    {
      error = path + ": too large for a RIFF header";
      return false;
    }
  unsigned char b[4];
  put_le32 (b, static_cast<uint32_t> (available));
  if (fseek (fc.f, data_size_pos, SEEK_SET) != 0 || fwrite (b, 1, 4, fc.f) != 4)
    {
      error = path + ": cannot rewrite the header";
      return false;
    }
  put_le32 (b, static_cast<uint32_t> (info.file_bytes - 8));
  if (fseek (fc.f, 4, SEEK_SET) != 0 || fwrite (b, 1, 4, fc.f) != 4 || fflush (fc.f) != 0)
    {
      error = path + ": cannot rewrite the header";
      return false;
    }
  repaired = true;
  return true;
}

} // namespace

bool
repair_wav_header (const std::string &path, bool &repaired, std::string &error)
{
  return fix_sizes (path, false, repaired, error);
}

bool
complete_wav_sizes (const std::string &path, bool &repaired, std::string &error)
{
  return fix_sizes (path, true, repaired, error);
}

WavWriter::~WavWriter ()
{
  std::string ignored;
  close (ignored);
}

bool
WavWriter::open (const std::string &path, std::string &error)
{
  fd_ = ::open (path.c_str (), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0)
    {
      error = path + ": " + g_strerror (errno);
      return false;
    }
  unsigned char h[44] = { 'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'A', 'V', 'E', 'f', 'm', 't', ' ' };
  put_le32 (h + 4, 36);
  put_le32 (h + 16, 16);
  h[20] = 1; /* PCM */
  h[22] = 1; /* mono */
  put_le32 (h + 24, 16000);
  put_le32 (h + 28, 16000 * 2);
  h[32] = 2;  /* block align */
  h[34] = 16; /* bits */
  memcpy (h + 36, "data", 4);
  if (write (fd_, h, sizeof (h)) != static_cast<ssize_t> (sizeof (h)))
    {
      error = path + ": cannot write the header: " + g_strerror (errno);
      ::close (fd_);
      fd_ = -1;
      return false;
    }
  updated_ms_ = g_get_monotonic_time () / 1000;
  return true;
}

bool
WavWriter::append (const uint8_t *data, size_t size, std::string &error)
{
  if (fd_ < 0)
    return false;
  /* Whole samples only, and never past what a RIFF header can say. */
  size -= size % 2;
  if (data_bytes_ + size > 0xFFFFFFF0ULL - 36)
    {
      error = "the WAV reached the 4 GB RIFF limit";
      return false;
    }
  while (size > 0)
    {
      ssize_t n = write (fd_, data, size);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          error = std::string ("cannot write the WAV: ") + g_strerror (errno);
          return false;
        }
      data += n;
      size -= static_cast<size_t> (n);
      data_bytes_ += static_cast<uint64_t> (n);
    }
  return true;
}

bool
WavWriter::write_sizes ()
{
  unsigned char b[4];
  put_le32 (b, static_cast<uint32_t> (36 + data_bytes_));
  bool ok = pwrite (fd_, b, 4, 4) == 4;
  put_le32 (b, static_cast<uint32_t> (data_bytes_));
  ok &= pwrite (fd_, b, 4, 40) == 4;
  return ok;
}

void
WavWriter::maybe_update (int64_t now_ms)
{
  if (fd_ < 0 || now_ms - updated_ms_ < update_ms)
    return;
  updated_ms_ = now_ms;
  write_sizes ();
}

bool
WavWriter::close (std::string &error)
{
  if (fd_ < 0)
    return true;
  bool ok = write_sizes ();
  if (!ok)
    error = std::string ("cannot update the WAV header: ") + g_strerror (errno);
  ok &= ::close (fd_) == 0;
  fd_ = -1;
  return ok;
}

} // namespace wssac_ingest
