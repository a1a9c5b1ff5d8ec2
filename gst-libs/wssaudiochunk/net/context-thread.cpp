#include "context-thread.h"

#include <condition_variable>
#include <mutex>

namespace wssac
{

ContextThread::ContextThread ()
    : context_ (g_main_context_new ()), loop_ (g_main_loop_new (context_, FALSE))
{
}

ContextThread::~ContextThread ()
{
  stop ();
  g_main_loop_unref (loop_);
  g_main_context_unref (context_);
}

gpointer
ContextThread::thread_main (gpointer data)
{
  auto *self = static_cast<ContextThread *> (data);
  g_main_context_push_thread_default (self->context_);
  if (self->setup_)
    self->setup_ ();
  g_main_loop_run (self->loop_);
  /* Teardown first: it removes the owner's sources, so that draining the
   * context below cannot start new work (a reconnect timer, say). */
  if (self->teardown_)
    self->teardown_ ();
  while (g_main_context_pending (self->context_))
    g_main_context_iteration (self->context_, FALSE);
  g_main_context_pop_thread_default (self->context_);
  return nullptr;
}

bool
ContextThread::start (const char *name, std::string &error, std::function<void ()> setup)
{
  if (thread_)
    return true;
  setup_ = std::move (setup);
  GError *err = nullptr;
  thread_ = g_thread_try_new (name, thread_main, this, &err);
  if (!thread_)
    {
      error = std::string ("could not start thread ") + name + ": "
              + (err ? err->message : "unknown error");
      g_clear_error (&err);
      return false;
    }
  return true;
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

gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (static_cast<GMainLoop *> (data));
  return G_SOURCE_REMOVE;
}
} // namespace

void
ContextThread::stop (std::function<void ()> teardown)
{
  if (!thread_)
    return;
  teardown_ = std::move (teardown);
  g_main_context_invoke (context_, quit_loop, loop_);
  g_thread_join (thread_);
  thread_ = nullptr;
  setup_ = nullptr;
  teardown_ = nullptr;
}

void
ContextThread::invoke (const std::function<void ()> &fn)
{
  if (g_main_context_is_owner (context_))
    {
      fn ();
      return;
    }
  Call call;
  call.fn = &fn;
  g_main_context_invoke (context_, run_call, &call);
  std::unique_lock<std::mutex> g (call.m);
  call.c.wait (g, [&] { return call.done; });
}

} // namespace wssac
