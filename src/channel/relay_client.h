// The relay channel's client side (DESIGN.md §4 "Relay (the New York channel)"): one connection
// to one relay, authenticated both ways (the relay pinned by its Ed25519 key; this client by a
// key made for that relay alone, which owns the mailbox there), speaking wire/relay_protocol.h.
//
// A RelayClient keeps its connection up (reconnecting with backoff) and, on every connection,
// SUBSCRIBEs to its own mailbox, asking for deliveries tagged with their writer (and asking
// again untagged when the relay predates writers); DELIVERs come through on_deliver until the owner ACKs their
// items. put() stores an envelope in any mailbox whose write capability the owner holds (a
// contact's mailbox at the same relay). Handlers run on the client's I/O thread, one at a
// time: they must not block and must not destroy the client. Every member is thread-safe.
//
// Pacing: the SUBSCRIBE also asks for the relay's rate limit (asking again without when the
// relay predates it), and every request then stays within it (put_pacer.h): put() refuses when
// there is no room and put_wait() says how long until there is, so that a relay channel takes
// no envelope it cannot send. A request refused as rate_limited anyway (a PUT, an ACK) goes
// again after a backoff; put_wait(), put(), ack() and the relay's answers send what is due.
//
// Under cover (Options::cover_ack_delay, issue 14) nothing the client sends depends on the
// traffic inside the envelopes: PUTs leave in the link's slots (the node's doing), and delivered
// items are acknowledged on a fixed schedule (timed_acks.h: a tick every delay, each naming the
// items that arrived at least a delay before, in ACKs of one fixed size) instead of in batches
// when the node has processed them. A thread of the client sends them at each tick, so that the
// node's loop being busy does not move them. The owner's capability requests wait for a tick
// too, and take the place of its first ACK there, in a PADDED message of an ACK's size (the
// ACK's items go at the next tick): on the wire a capability request is one more ACK, where
// it would otherwise be a request of its own size at a time of its own. A relay that refuses
// PADDED as bad_request (one before it) gets them unpadded, still at ticks.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/sign.h"
#include "util/bytes.h"
#include "util/result.h"
#include "wire/relay_protocol.h"

namespace bc::channel {

// Where a relay listens: from a URL wss://HOST:PORT/PATH (PATH is the WebSocket path, so a relay
// may sit behind an HTTPS reverse proxy that routes by path).
struct RelayEndpoint {
  std::string host;
  std::uint16_t port = 0;
  std::string path;
};
util::Result<RelayEndpoint> parse_relay_url(std::string_view url);
// The relay's Ed25519 public key from its 64 hex characters (what `relay info` prints).
util::Result<crypto::SignPublicKey> parse_relay_key(std::string_view hex);

struct CreatedMailbox {
  wire::relay::MailboxId mailbox{};
  wire::relay::Capability capability{};
};

// Connects once and CREATEs a mailbox owned by client_key. Errors say what went wrong: the relay
// unreachable or not proving relay_key (io), the relay's refusal with its code and message
// (refused), no answer within timeout (io).
util::Result<CreatedMailbox> create_mailbox(const RelayEndpoint& endpoint, const crypto::SignPublicKey& relay_key,
                                            const crypto::SigningKey& client_key, const std::string& token,
                                            std::chrono::milliseconds timeout);

// Connects once and DELETEs our mailbox (with everything stored in it). Errors as above.
util::Result<void> delete_mailbox(const RelayEndpoint& endpoint, const crypto::SignPublicKey& relay_key,
                                  const crypto::SigningKey& client_key, const wire::relay::MailboxId& mailbox,
                                  std::chrono::milliseconds timeout);

// Connects once and adds a write capability to our mailbox (its owner's request), or revokes one
// by its id (channel/relay_capability.h). A relay that predates writers refuses both as
// bad_request (refused). Errors as above.
util::Result<void> add_capability(const RelayEndpoint& endpoint, const crypto::SignPublicKey& relay_key,
                                  const crypto::SigningKey& client_key, const wire::relay::MailboxId& mailbox,
                                  const wire::relay::Capability& capability, wire::relay::CapabilityKind kind,
                                  std::chrono::milliseconds timeout);
util::Result<void> revoke_capability(const RelayEndpoint& endpoint, const crypto::SignPublicKey& relay_key,
                                     const crypto::SigningKey& client_key, const wire::relay::MailboxId& mailbox,
                                     const wire::relay::CapabilityId& capability, std::chrono::milliseconds timeout);

class RelayClient {
 public:
  struct Handlers {
    // true once the relay confirmed the subscription; false when the connection is lost (the
    // client reconnects by itself) or the relay refused the subscription (detail says why).
    std::function<void(bool subscribed, const std::string& detail)> on_state;
    // A stored or live envelope of our mailbox; ACK its item once it is processed durably.
    // writer: the id of the capability it came through (channel/relay_capability.h); nullopt
    // from a relay that predates writers.
    std::function<void(std::uint64_t item, util::Bytes envelope, std::optional<wire::relay::CapabilityId> writer)>
        on_deliver;
  };

  struct Options {
    // Set under cover: ACKs leave at ticks this far apart, each item's at the first tick at least
    // this long after its DELIVER arrived (timed_acks.h).
    std::optional<std::chrono::milliseconds> cover_ack_delay;
  };

  static util::Result<std::unique_ptr<RelayClient>> start(const RelayEndpoint& endpoint,
                                                          const crypto::SignPublicKey& relay_key,
                                                          const crypto::SigningKey& client_key,
                                                          const wire::relay::MailboxId& mailbox, Handlers handlers,
                                                          Options options = {});
  ~RelayClient();  // closes the connection; no handler runs after it returns
  RelayClient(const RelayClient&) = delete;
  RelayClient& operator=(const RelayClient&) = delete;

  // The relay's answer to one request, run on the I/O thread: nullopt for its OK, else its ERROR
  // (or an internal error made here when the connection was lost before the answer).
  using Answer = std::function<void(std::optional<wire::relay::Error> refusal)>;
  // Queues a PUT of one envelope (exactly wire::kEnvelopeSize bytes). False when not connected,
  // the connection's queue is full or the relay's rate limit has no room for it now (see
  // put_wait()): the link engine retransmits what it carried.
  // answer, when given, runs at most once with the relay's final word on this PUT: OK, or a
  // refusal other than rate_limited (a PUT refused as rate_limited goes again and is answered
  // then). It does not run when the PUT is forgotten unanswered: the connection lost, or more
  // than kMaxPendingPuts in flight. The node asks it of a HELLO only (node/hello_puts.cpp).
  bool put(const wire::relay::MailboxId& mailbox, const wire::relay::Capability& capability,
           util::ByteView envelope, Answer answer = {});
  // The owner's ADD_CAPABILITY / REVOKE_CAPABILITY on this connection. answer runs once on the
  // I/O thread (Answer above, with the internal error when the connection was lost). False
  // (answer never runs) when not connected. Under cover the request waits for the next ACK tick
  // (above).
  bool add_capability(const wire::relay::Capability& capability, wire::relay::CapabilityKind kind, Answer answer);
  bool revoke_capability(const wire::relay::CapabilityId& capability, Answer answer);
  // How long until put() has room under the relay's rate limit (put_pacer.h): zero when it has
  // now (or when not connected: put() then fails at once). PUTs the relay refused as
  // rate_limited go again first, as soon as their backoff and the limit allow; this sends those
  // whose time came.
  std::chrono::nanoseconds put_wait();
  // What the relay told (on the latest subscription) and what it did since the client started.
  struct PaceStats {
    std::optional<wire::relay::Limits> limits;  // nullopt: not told (yet, or an older relay)
    std::uint64_t accepted = 0;                 // PUTs answered OK
    std::uint64_t rate_limited = 0;             // requests refused as rate_limited
    std::uint64_t retried = 0;                  // refused PUTs sent again
  };
  PaceStats pace_stats() const;
  // Deletes delivered items from our mailbox (split into ACKs of at most kMaxAckItems). Under a
  // told limit they go in batches (128 items, or the oldest 250 ms old or 32 requests' time), so that ACKs take few
  // of the requests the PUTs need.
  // Under cover: each item goes at the first tick at least its delay after its DELIVER arrived
  // (or the first after now, when that passed).
  void ack(const std::vector<std::uint64_t>& items);
  bool subscribed() const;

  struct Impl;

 private:
  explicit RelayClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bc::channel
