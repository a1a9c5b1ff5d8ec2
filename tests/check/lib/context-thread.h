/* Test helper: a thread running its own GMainContext, for the libsoup
 * servers and clients the tests start (libsoup objects belong to the context
 * that created them, and the tests' own threads run no main loop). */
#pragma once

#include <glib.h>

#include <functional>
#include <thread>

class ContextThread
{
public:
  ContextThread ();
  /* Quits the loop and joins; pending sources of the context are run first. */
  ~ContextThread ();
  ContextThread (const ContextThread &) = delete;
  ContextThread &operator= (const ContextThread &) = delete;

  GMainContext *context () const { return context_; }
  /* Runs @fn on the thread, with the context as thread default, and waits. */
  void invoke (const std::function<void ()> &fn);

private:
  std::thread thread_;
  GMainContext *context_;
  GMainLoop *loop_;
};
