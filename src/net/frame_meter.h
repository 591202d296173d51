// Internal to net/: a stream layer between TLS and WebSocket that counts the frames an inbound
// peer sends against its FrameBudget, and fails the read that goes over it.
//
// Why a layer: Beast answers pings and skips empty continuation frames inside one
// async_read_some, without returning to the caller, so a read loop never sees a flood of them
// (283 million empty continuations in 23 s were never cut). Every byte the WebSocket layer
// reads passes through here. Counting starts at the WebSocket upgrade (start_counting());
// before it the bytes are HTTP and pass uncounted.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/system/errc.hpp>
#include <boost/system/error_code.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <utility>

#include "net/frame_counter.h"

namespace bc::net::detail {

// The error of a read that went over the budget (the counter says which budget; no socket
// read reports EBADMSG otherwise).
inline boost::system::error_code frame_budget_exceeded() {
  return boost::system::errc::make_error_code(boost::system::errc::bad_message);
}

template <class Next>
class FrameMeter {
 public:
  using next_layer_type = Next;
  using executor_type = typename Next::executor_type;

  template <class... Args>
  explicit FrameMeter(Args&&... args) : next_(std::forward<Args>(args)...) {}

  executor_type get_executor() noexcept { return next_.get_executor(); }
  Next& next_layer() noexcept { return next_; }
  const Next& next_layer() const noexcept { return next_; }

  void start_counting(FrameBudget budget) { counter_.emplace(budget); }
  const FrameCounter* counter() const { return counter_ ? &*counter_ : nullptr; }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return boost::asio::async_compose<Token, void(boost::system::error_code, std::size_t)>(
        ReadOp<MutableBuffers>{*this, buffers}, token, next_);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return next_.async_write_some(buffers, std::forward<Token>(token));
  }

 private:
  template <class MutableBuffers>
  struct ReadOp {
    FrameMeter& meter;
    MutableBuffers buffers;
    bool started = false;

    template <class Self>
    void operator()(Self& self, boost::system::error_code ec = {}, std::size_t size = 0) {
      if (!started) {
        started = true;
        meter.next_.async_read_some(buffers, std::move(self));
        return;
      }
      if (!ec && meter.counter_ && !meter.count(buffers, size)) ec = frame_budget_exceeded();
      self.complete(ec, size);
    }
  };

  template <class MutableBuffers>
  bool count(const MutableBuffers& buffers, std::size_t size) {
    const auto now = std::chrono::steady_clock::now();
    std::size_t left = size;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         left > 0 && it != boost::asio::buffer_sequence_end(buffers); ++it) {
      const boost::asio::const_buffer piece(*it);
      const std::size_t n = std::min(piece.size(), left);
      if (!counter_->feed(static_cast<const std::uint8_t*>(piece.data()), n, now)) return false;
      left -= n;
    }
    return true;
  }

  Next next_;
  std::optional<FrameCounter> counter_;
};

// The WebSocket closing handshake tears down the layer below: ours has nothing of its own.
template <class Next>
void teardown(boost::beast::role_type role, FrameMeter<Next>& stream,
              boost::system::error_code& ec) {
  using boost::beast::teardown;
  teardown(role, stream.next_layer(), ec);
}

template <class Next, class Handler>
void async_teardown(boost::beast::role_type role, FrameMeter<Next>& stream, Handler&& handler) {
  using boost::beast::async_teardown;
  async_teardown(role, stream.next_layer(), std::forward<Handler>(handler));
}

}  // namespace bc::net::detail
