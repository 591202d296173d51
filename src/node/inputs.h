// What the node's loop thread takes from its queue: everything net's I/O thread, the control
// socket's threads and the relay clients' threads tell it. They only post these; the loop alone
// acts on them (node.h "Threads").
#pragma once

#include <future>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "net/types.h"
#include "node/control_protocol.h"
#include "util/bytes.h"
#include "util/clock.h"
#include "wire/relay_protocol.h"

namespace bc::node::detail {

struct NetConnected {
  net::ConnectionInfo info;
};
struct NetMessage {
  net::ConnectionId id;
  util::Bytes bytes;
};
// An attempt of a dial failed (net retries it by itself).
struct NetDialFailed {
  net::DialId id;
  std::string error;
};
struct NetClosed {
  net::ConnectionId id;
  std::string reason;
};
struct ControlInput {
  ControlRequest request;
  std::shared_ptr<std::promise<std::string>> reply;
};
// From a relay client's I/O thread; relay is the OwnRelay's store id.
struct RelayStateChanged {
  std::int64_t relay = 0;
  bool subscribed = false;
  std::string detail;
};
struct RelayDelivered {
  std::int64_t relay = 0;
  std::uint64_t item = 0;
  util::Bytes envelope;
  // The capability it came through (node/relay_writers.h); nullopt from a relay before writers.
  std::optional<wire::relay::CapabilityId> writer;
};
// The relay's answer to our ADD_CAPABILITY or REVOKE_CAPABILITY of a store row
// (store/relay_capabilities.h); refusal nullopt: done.
struct RelayCapabilityAnswer {
  std::int64_t relay = 0;
  std::int64_t row = 0;
  bool revoke = false;
  std::optional<wire::relay::Error> refusal;
};
// A relay's answer to our pending HELLO's PUT into the inviter's mailbox there
// (node/hello_puts.cpp): nullopt for stored. sent_at: when the Link gave out that HELLO.
struct RelayHelloAnswer {
  std::int64_t relay = 0;
  std::int64_t contact = 0;
  util::WallTime sent_at{};
  std::optional<wire::relay::Error> refusal;
};
using Input = std::variant<NetConnected, NetMessage, NetClosed, NetDialFailed, ControlInput,
                           RelayStateChanged, RelayDelivered, RelayCapabilityAnswer, RelayHelloAnswer>;

}  // namespace bc::node::detail
