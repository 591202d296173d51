// A channel: one path that carries the envelopes of one link (DESIGN.md §2). The node keeps one
// object per path and link and sends through this interface only, so there is one send path
// whatever the channel (direct, relay; the courier of a later issue is the third kind).
//
// State, and the only transitions (each with a cause, for logs and status):
//   down --set_up(cause)--> up       the path can carry envelopes now: a direct connection was
//                                    admitted; our relay subscription is live while the contact
//                                    has a mailbox there
//   up --set_down(cause)--> down     it cannot any more: the connection closed, the
//                                    subscription was lost
// A channel starts down. "Up" here is the transport's view; whether the counterpart is heard on
// it (heartbeats) is the link engine's (link/health.h).
#pragma once

#include <chrono>
#include <string>

#include "link/types.h"
#include "util/bytes.h"

namespace bc::channel {

enum class Kind { direct, relay, courier };
const char* kind_name(Kind kind);

enum class State { down, up };
const char* state_name(State state);

class Channel {
 public:
  Channel(link::ChannelId id, std::string name, Kind kind) : id_(id), name_(std::move(name)), kind_(kind) {}
  virtual ~Channel() = default;
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  link::ChannelId id() const { return id_; }
  const std::string& name() const { return name_; }  // "direct", "relay:<name>"
  Kind kind() const { return kind_; }
  State state() const { return state_; }
  bool up() const { return state_ == State::up; }
  const std::string& cause() const { return cause_; }
  // What using it costs, lowest first: direct 0 (no third party), relay 1 (a third party stores
  // and forwards it), courier 2 (a person carries it).
  int cost() const { return static_cast<int>(kind_); }

  // Writes one envelope (exactly wire::kEnvelopeSize bytes); false when it cannot now (down,
  // or its queue is full): the caller answers Link::mark_failed and nothing is lost.
  virtual bool send(util::ByteView envelope) = 0;
  // How long until send() has room for an envelope under a rate the path enforces (a relay's
  // limit, relay_client.h): zero when it has now. The caller takes no envelope for a channel
  // that must wait (one taken and refused spends a message key for nothing) and looks again
  // after this long.
  virtual std::chrono::nanoseconds send_wait() { return std::chrono::nanoseconds::zero(); }

 protected:
  // The transitions above; false (and nothing changes) when already in that state.
  bool set_up(std::string cause);
  bool set_down(std::string cause);

 private:
  link::ChannelId id_;
  std::string name_;
  Kind kind_;
  State state_ = State::down;
  std::string cause_ = "not yet connected";
};

}  // namespace bc::channel
