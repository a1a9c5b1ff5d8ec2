/* The test servers' and client's getters: state written on their server
 * thread, read by the test under the object's lock_. */
#pragma once

#include <mutex>

/* Defines `TYPE CLS::NAME () const` returning VALUE (a member, or an
 * expression of members) read under lock_. TYPE comes last: it may hold
 * commas (std::map<K, V>). */
#define WSS_LOCKED_GETTER(cls, name, value, ...)                                                   \
  __VA_ARGS__ cls::name () const                                                                   \
  {                                                                                                \
    std::lock_guard<std::mutex> g (lock_);                                                         \
    return value;                                                                                  \
  }
