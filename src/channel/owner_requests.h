// The owner's capability requests under cover (issue 14): ADD_CAPABILITY and REVOKE_CAPABILITY
// wait for the relay client's next ACK tick (timed_acks.h), where one takes the place of the
// tick's first ACK, wrapped in a PADDED message of that ACK's size (wire/relay_protocol.h). On
// the wire a capability request is then one more ACK, where it would otherwise be a request of
// its own size at a time of its own.
//
// A relay that predates PADDED refuses it as bad_request, naming request 0 (it reads no request
// id from a type it does not know; the client never uses 0). That refusal is taken for the
// oldest PADDED request awaiting its answer, which goes again unpadded at the next tick; so do
// all later ones.
//
// Holds each request from add() until its answer: the caller routes the relay's answers here
// first. Sans-I/O and not thread-safe (RelayClient holds it under its lock).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "util/bytes.h"
#include "wire/relay_protocol.h"

namespace bc::channel {

class OwnerRequests {
 public:
  // The relay's answer to one request: nullopt for its OK, else its ERROR.
  using Answer = std::function<void(std::optional<wire::relay::Error> refusal)>;

  // padded_size: the size of one tick's ACK, which a PADDED request takes.
  explicit OwnerRequests(std::size_t padded_size) : padded_size_(padded_size) {}

  // request: an AddCapability or a RevokeCapability (its request id is set by take()).
  void add(wire::relay::Message request, Answer done);
  bool waiting() const { return !queue_.empty(); }
  // At a tick, with waiting(): the oldest request as request id `id`, encoded to send (PADDED
  // unless the relay refused that).
  util::Bytes take(std::uint32_t id);
  // The relay answered request: its Answer, to run, when it is one of ours.
  std::optional<Answer> answered(std::uint32_t request);
  // The relay refused request as bad_request: true when that refused a PADDED request (request
  // 0: the oldest sent), which then waits again, unpadded, at the front.
  bool refused_padding(std::uint32_t request);
  // Whether requests still go PADDED.
  bool padding() const { return padding_; }
  // The connection closed: the answers of every request waiting or sent, to be told it was lost.
  std::vector<Answer> drop();

 private:
  struct Request {
    wire::relay::Message message;
    Answer done;
    bool padded = false;
  };
  std::size_t padded_size_;
  bool padding_ = true;
  std::deque<Request> queue_;
  std::map<std::uint32_t, Request> sent_;
};

}  // namespace bc::channel
