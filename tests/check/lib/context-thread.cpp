#include "context-thread.h"

#include <condition_variable>
#include <mutex>

ContextThread::ContextThread ()
    : context_ (g_main_context_new ()), loop_ (g_main_loop_new (context_, FALSE))
{
  thread_ = std::thread ([this] {
    g_main_context_push_thread_default (context_);
    g_main_loop_run (loop_);
    while (g_main_context_pending (context_))
      g_main_context_iteration (context_, FALSE);
    g_main_context_pop_thread_default (context_);
  });
}

ContextThread::~ContextThread ()
{
  invoke ([this] { g_main_loop_quit (loop_); });
  thread_.join ();
  g_main_loop_unref (loop_);
  g_main_context_unref (context_);
}

namespace
{
struct Call
{
  const std::function<void ()> *fn;
  std::mutex m;
  std::condition_variable c;
  bool done = false;
};

gboolean
run_call (gpointer data)
{
  auto *call = static_cast<Call *> (data);
  (*call->fn) ();
  std::lock_guard<std::mutex> g (call->m);
  call->done = true;
  call->c.notify_all ();
  return G_SOURCE_REMOVE;
}
} // namespace

void
ContextThread::invoke (const std::function<void ()> &fn)
{
  Call call;
  call.fn = &fn;
  g_main_context_invoke (context_, run_call, &call);
  std::unique_lock<std::mutex> g (call.m);
  call.c.wait (g, [&] { return call.done; });
}
