#include "net/descriptor_states.h"

#include <spdlog/spdlog.h>

#include <vector>

namespace bc::net::detail {

void reserve_descriptor_states(asio::io_context& io, std::size_t count) {
  std::vector<tcp::socket> sockets;
  sockets.reserve(count);
  boost::system::error_code ec;
  for (std::size_t i = 0; i < count; ++i) {
    tcp::socket socket(io);
    socket.open(tcp::v4(), ec);  // registers the descriptor with the reactor
    if (ec) {
      spdlog::debug("net: set aside {} of {} socket records: {}", i, count, ec.message());
      break;
    }
    sockets.push_back(std::move(socket));
  }
  // The sockets close here; their records stay in the reactor's pool for later sockets.
}

}  // namespace bc::net::detail
