/* wssaudiochunk: a named thread running a GMainContext of its own.
 *
 * libsoup objects belong to the main context that created them, and neither
 * GStreamer's streaming threads nor an application's threads run ours: so
 * the sink's transport, the receivers' servers and the tests' servers each
 * run one of these. The thread is created with g_thread_try_new(), so a
 * failure to create it is an error returned by start(), never an exception.
 */
#pragma once

#include <glib.h>

#include <functional>
#include <string>

namespace wssac
{

class ContextThread
{
public:
  /* Creates the context; the thread starts with start(). */
  ContextThread ();
  /* stop() */
  ~ContextThread ();
  ContextThread (const ContextThread &) = delete;
  ContextThread &operator= (const ContextThread &) = delete;

  /* Starts the thread @name (shown by debuggers and top -H); it pushes the
   * context as its thread default, runs @setup if given, then the loop.
   * false with @error set when the thread could not be created. */
  bool start (const char *name, std::string &error, std::function<void ()> setup = nullptr);
  /* Quits the loop and joins the thread. On the thread, after the loop,
   * @teardown runs (if given), then whatever is still pending on the
   * context, with the context still the thread default. No-op when not
   * running. */
  void stop (std::function<void ()> teardown = nullptr);
  bool
  running () const
  {
    return thread_ != nullptr;
  }

  GMainContext *
  context () const
  {
    return context_;
  }
  GMainLoop *
  loop () const
  {
    return loop_;
  }

  /* Runs @fn on the thread, with the context as thread default, and waits
   * for it (runs it at once when called from the thread itself). */
  void invoke (const std::function<void ()> &fn);

private:
  static gpointer thread_main (gpointer data);

  GMainContext *context_;
  GMainLoop *loop_;
  GThread *thread_ = nullptr;
  std::function<void ()> setup_;
  std::function<void ()> teardown_;
};

} // namespace wssac
