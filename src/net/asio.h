// Internal to net/: the Boost.Asio and Beast types the transport is built from. Only net/ .cpp
// files include this (the heavy headers come precompiled, see CMakeLists.txt); no public header
// of net/ does, so the rest of the project never compiles Asio.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "net/frame_meter.h"

namespace bc::net::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;

using Executor = asio::any_io_executor;
// Completion token for coroutines: errors come back as values, so that an ordinary network
// failure is never an exception.
constexpr auto kAwaitTuple = asio::as_tuple(asio::use_awaitable);

using TlsStream = asio::ssl::stream<beast::tcp_stream>;
// The frame meter sits between TLS and WebSocket: see frame_meter.h.
using WsStream = websocket::stream<FrameMeter<TlsStream>>;

}  // namespace bc::net::detail
