// The direct channel of one link: the one TLS connection (net::Service) between the two nodes,
// whichever side dialled it (net collapses duplicates to one).
#pragma once

#include <optional>

#include "channel/channel.h"
#include "net/service.h"

namespace bc::channel {

class DirectChannel final : public Channel {
 public:
  // net must outlive the channel.
  DirectChannel(link::ChannelId id, net::Service& net) : Channel(id, "direct", Kind::direct), net_(net) {}

  // A connection with the contact was admitted: it carries the channel now (up). address: the
  // dialled HOST:PORT (outbound) or the remote address (inbound), for status.
  // Returns whether the state changed.
  bool attach(net::ConnectionId connection, std::string address, bool outbound);
  // The connection ended (down), if it is the one attached; returns whether it was.
  bool detach(net::ConnectionId connection, const std::string& why);

  std::optional<net::ConnectionId> connection() const { return connection_; }
  const std::string& address() const { return address_; }
  bool outbound() const { return outbound_; }

  bool send(util::ByteView envelope) override;

 private:
  net::Service& net_;
  std::optional<net::ConnectionId> connection_;
  std::string address_;
  bool outbound_ = false;
};

}  // namespace bc::channel
