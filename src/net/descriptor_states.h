// Internal to net/: sets aside, once, the reactor's bookkeeping for the sockets a flood may
// hold open at the same time.
#pragma once

#include <cstddef>

#include "net/asio.h"

namespace bc::net::detail {

// Asio's epoll reactor keeps one small record per registered socket in a pool that only grows:
// a record goes back to the pool's free list when its socket closes, never to malloc. Records
// made during a flood therefore stay where the flood's allocations put them, one every few
// pages of freed connection memory, and keep those pages resident after the flood is gone
// (measured: 510 records pinning 2.2 MiB after 2,000 idle connections, the relay 15% above its
// start; malloc_trim can return only whole free pages). Opening and closing `count` sockets up
// front makes the records in one run, from the calling thread's arena; a flood up to the
// listener's caps then reuses them and leaves nothing behind. Stops early (and says so in the
// log) when descriptors run out; costs about 200 bytes a record.
void reserve_descriptor_states(asio::io_context& io, std::size_t count);

}  // namespace bc::net::detail
