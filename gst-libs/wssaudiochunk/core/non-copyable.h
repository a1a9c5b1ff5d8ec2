/* wssaudiochunk: a base for classes that own something (a descriptor, a
 * file, a GObject, a terminal mode) that a copy would release twice.
 * Inherit privately: class Journal : private wssac::NonCopyable. */
#pragma once

namespace wssac
{

class NonCopyable
{
public:
  NonCopyable (const NonCopyable &) = delete;
  NonCopyable &operator= (const NonCopyable &) = delete;

protected:
  NonCopyable () = default;
  ~NonCopyable () = default;
};

} // namespace wssac
