// Everything the node holds for one contact: its row, its link store, its session, its link
// engine, the direct connection and the relay channels carrying it. Owned and used by the node's
// loop thread.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <optional>
#include <set>

#include "link/link.h"
#include "net/types.h"
#include "node/address_book.h"
#include "node/sqlite_link_store.h"
#include "session/reachability.h"
#include "store/contacts.h"

namespace bc::node {

// Channel 0 is the direct channel; each relay this node uses gets its own id from 1 up (see
// node.cpp OwnRelay), the same for every link that rides it.
inline constexpr link::ChannelId kDirectChannel = 0;

struct Peer {
  store::Contact contact;
  std::unique_ptr<SqliteLinkStore> link_store;
  // The session and engine as one unit (link/link.h); null while the contact has no session.
  std::unique_ptr<link::Link> link;
  std::optional<net::ConnectionId> direct;
  std::map<std::string, net::DialId> dials;  // by direct address
  // The contact's direct addresses: which are kept, replaced, ignored (address_book.h).
  AddressBook addresses;
  // Set when a direct connection with the contact had a loopback remote address (rule A4).
  bool seen_on_loopback = false;
  // Whether the last announcement was applied while the contact counted as local (rule A4): an
  // unchanged announcement is applied again when this changes.
  bool announced_as_local = false;
  // The address the direct channel uses: the dialled HOST:PORT (outbound) or the remote
  // address of an inbound connection.
  std::string direct_address;
  bool direct_outbound = false;
  // How the contact told us to reach it (contact.reachability, decoded): its relay mailboxes.
  session::Reachability reach;
  // Relay channels the engine was told are connected: our relay is subscribed and the contact
  // has a mailbox at the same relay (matched by the relay's key).
  std::set<link::ChannelId> relay_channels;
  // Relay channels the engine was told to expect: our relay exists and the contact has a
  // mailbox at it, subscribed or not (a relay that is down counts as a down channel).
  std::set<link::ChannelId> expected_relay_channels;
  // Since the node started (carried over when the peer is reloaded): messages delivered to
  // us, messages whose first chunk left, channel state changes.
  std::uint64_t messages_in = 0, messages_out = 0, channel_changes = 0;
  // When our reachability last went out in a CONTROL frame (not retransmitted: repeated).
  util::WallTime announced_at{};
};

}  // namespace bc::node
