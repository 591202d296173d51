#include "channel/direct_channel.h"

namespace bc::channel {

bool DirectChannel::attach(net::ConnectionId connection, std::string address, bool outbound) {
  connection_ = connection;
  outbound_ = outbound;
  address_ = std::move(address);
  return set_up(std::string(outbound ? "dialled " : "accepted from ") + address_);
}

bool DirectChannel::detach(net::ConnectionId connection, const std::string& why) {
  if (connection_ != connection) return false;
  connection_.reset();
  address_.clear();
  set_down(why);
  return true;
}

bool DirectChannel::send(util::ByteView envelope) {
  if (!connection_) return false;
  return net_.send(*connection_, util::Bytes(envelope.begin(), envelope.end()));
}

}  // namespace bc::channel
