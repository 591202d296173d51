// Everything the node holds for one contact: its row, its link store, its session, its link
// engine, the direct connection and the relay channels carrying it. Owned and used by the node's
// loop thread.
#pragma once

#include <chrono>

#include <map>
#include <memory>
#include <string>
#include <optional>
#include <set>

#include "channel/direct_channel.h"
#include "channel/relay_channel.h"
#include "link/link.h"
#include "net/types.h"
#include "node/address_book.h"
#include "node/open_budget.h"
#include "node/sqlite_link_store.h"
#include "session/hello_refusal.h"
#include "session/reachability.h"
#include "store/contacts.h"

namespace bc::node {

// Channel 0 is the direct channel; each relay this node uses gets its own id from 1 up (see
// node.cpp OwnRelay), the same for every link that rides it.
inline constexpr link::ChannelId kDirectChannel = 0;

// How many times, and how far apart, a parting HELLO goes (Peer::parting_hello).
inline constexpr int kPartingHellos = 5;
inline constexpr std::chrono::seconds kPartingHelloInterval{2};
// How long after our HELLO was answered a HELLO of the same contact still counts as the other
// half of a mutual invitation (hello_acceptor.cpp).
inline constexpr std::chrono::minutes kMutualHelloWindow{5};

struct Peer {
  store::Contact contact;
  std::unique_ptr<SqliteLinkStore> link_store;
  // The session and engine as one unit (link/link.h); null while the contact has no session.
  std::unique_ptr<link::Link> link;
  // The channels of this link (channel/channel.h): the direct one always, and one per relay
  // where both sides have a mailbox. The engine hears of every state change of each.
  std::unique_ptr<channel::DirectChannel> direct;
  std::map<link::ChannelId, std::unique_ptr<channel::RelayChannel>> relays;
  std::map<std::string, net::DialId> dials;  // by direct address
  // The contact's direct addresses: which are kept, replaced, ignored (address_book.h).
  AddressBook addresses;
  // Set when a direct connection with the contact had a loopback remote address (rule A4).
  bool seen_on_loopback = false;
  // Whether the last announcement was applied while the contact counted as local (rule A4): an
  // unchanged announcement is applied again when this changes.
  bool announced_as_local = false;
  // How the contact told us to reach it (contact.reachability, decoded): its relay mailboxes.
  session::Reachability reach;
  // Since the node started (carried over when the peer is reloaded): messages delivered to
  // us, messages whose first chunk left, channel state changes.
  std::uint64_t messages_in = 0, messages_out = 0, channel_changes = 0;
  // When our reachability last went out in a CONTROL frame (not retransmitted: repeated).
  util::WallTime announced_at{};
  // When the contact's node last refused our key in a dial's TLS handshake (net::refused_our_key);
  // cleared by the next direct connection. For an invitee whose HELLO is pending this is the
  // inviter saying no: the invitation was revoked, used or expired there.
  std::optional<std::int64_t> refused_our_key_at_ms;
  // Both sides invited each other and the contact's HELLO replaced the session our own HELLO
  // began (its invitee has the smaller key): our HELLO still goes a few times, so the contact's
  // node sees its invitation used and consumes it (hello_acceptor.cpp); it keeps its session.
  std::optional<util::Bytes> parting_hello;
  // When the contact first answered our HELLO (since this node started): a HELLO of the
  // contact's arriving soon after is the late half of a mutual invitation, not a new start.
  std::optional<util::WallTime> hello_answered_at;
  int parting_hello_left = 0;
  util::WallTime parting_hello_next{};
  // The inviter's signed refusal of our pending HELLO, received through a relay
  // (session/hello_refusal.h): why, when the inviter refused it (its clock, Unix s) and when it
  // came (ours, Unix ms). Not durable; the next HELLO refused brings it back.
  struct HelloRefused {
    session::RefusalReason reason = session::RefusalReason::revoked;
    std::int64_t refused_at = 0;
    std::int64_t received_at_ms = 0;
  };
  std::optional<HelloRefused> hello_refused;
  // The inviter's relays that refused our pending HELLO's PUT as bad_capability: the
  // invitation's HELLO-only capability is not (or no longer) known there, so the invitation was
  // used, revoked or expired, or the inviter's node has not added it there yet
  // (node/hello_puts.cpp). By relay name. The relay's word only: the signed refusal above is
  // shown instead when both are known. A later OK from that relay to a HELLO PUT erases its
  // entry. Not durable.
  struct RelayRefusedHello {
    std::string detail;  // the relay's message
    std::int64_t first_at_ms = 0;
    std::int64_t last_at_ms = 0;
    std::uint64_t refusals = 0;
  };
  std::map<std::string, RelayRefusedHello> hello_refused_by_relay;
  // The HELLO send (when the Link gave it out) whose refusal by a relay was logged last: a send
  // that several relays refuse is logged once, so one line per backoff step.
  std::optional<util::WallTime> hello_relay_refusal_logged;
  // Costly refusals (forged bodies behind authentic headers, bridged gaps) per channel of this
  // link, and whether the channel is dropped for it (node/open_budget.h).
  std::map<link::ChannelId, OpenBudget> open_budgets;

  // Every channel, the direct one first; the one send path goes through these.
  std::vector<channel::Channel*> channels() const {
    std::vector<channel::Channel*> out{direct.get()};
    for (const auto& [id, relay] : relays) out.push_back(relay.get());
    return out;
  }
  bool any_channel_up() const {
    for (const auto* ch : channels()) {
      if (ch->up()) return true;
    }
    return false;
  }
  // The shortest wait of an up channel that paces its sends (Channel::send_wait()); zero when
  // none must wait.
  std::chrono::nanoseconds send_wait() const {
    auto wait = std::chrono::nanoseconds::zero();
    for (auto* ch : channels()) {
      if (!ch->up()) continue;
      const auto w = ch->send_wait();
      if (w > std::chrono::nanoseconds::zero() && (wait == std::chrono::nanoseconds::zero() || w < wait)) wait = w;
    }
    return wait;
  }
};

}  // namespace bc::node
