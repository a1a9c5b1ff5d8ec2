/* wssaudiochunk receiver: a mailbox between threads. What the workers of
 * an IngestServer post to each other (messages for a session another
 * worker owns, replies, closes, connections handed over) is drained on
 * the receiving worker's thread in batches: one wake-up for everything
 * posted while it was busy. */
#pragma once

#include <glib.h>

#include <functional>
#include <mutex>
#include <vector>

namespace wssac
{

/* Items posted from any thread to the thread of a GMainContext, handed
 * over in batches: one wake-up for everything posted while the receiving
 * thread was busy. */
template <typename T> class Mailbox
{
public:
  using Drain = std::function<void (std::vector<T> &)>;
  ~Mailbox ()
  {
    detach ();
  }

  void
  attach (GMainContext *context, Drain drain)
  {
    static GSourceFuncs funcs = { nullptr, nullptr, dispatch, nullptr, nullptr, nullptr };
    drain_ = std::move (drain);
    auto *src = reinterpret_cast<Source *> (g_source_new (&funcs, sizeof (Source)));
    src->box = this;
    std::lock_guard<std::mutex> g (lock_);
    source_ = &src->base;
    g_source_attach (source_, context);
  }
  void
  detach ()
  {
    GSource *src = nullptr;
    {
      std::lock_guard<std::mutex> g (lock_);
      std::swap (src, source_);
      items_.clear ();
    }
    if (src)
      {
        g_source_destroy (src);
        g_source_unref (src);
      }
  }
  /* On the receiving thread: hands over what is queued now. */
  void
  flush ()
  {
    std::vector<T> batch;
    {
      std::lock_guard<std::mutex> g (lock_);
      batch.swap (items_);
    }
    if (!batch.empty ())
      drain_ (batch);
  }
  /* Dropped once detached. */
  void
  post (T &&item)
  {
    std::lock_guard<std::mutex> g (lock_);
    if (!source_)
      return;
    items_.push_back (std::move (item));
    if (items_.size () == 1)
      g_source_set_ready_time (source_, 0); /* thread-safe: wakes the context */
  }

private:
  struct Source
  {
    GSource base;
    Mailbox *box;
  };
  static gboolean
  dispatch (GSource *source, GSourceFunc, gpointer)
  {
    Mailbox *self = reinterpret_cast<Source *> (source)->box;
    /* Before taking the items: a post after this wakes us again. */
    g_source_set_ready_time (source, -1);
    std::vector<T> batch;
    {
      std::lock_guard<std::mutex> g (self->lock_);
      batch.swap (self->items_);
    }
    if (!batch.empty ())
      self->drain_ (batch);
    return G_SOURCE_CONTINUE;
  }

  std::mutex lock_;
  std::vector<T> items_;
  GSource *source_ = nullptr;
  Drain drain_;
};

} // namespace wssac
