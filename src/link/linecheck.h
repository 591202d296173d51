// The engine's side of a line check (docs/protocol.md "Line check"): the request it sends on one
// channel, the signed reply it gives to the peer's request, and the check of the peer's reply.
// Pure functions of the frame, the channel's descriptor and the two identities; the engine
// (engine.cpp) decides where frames go and records what these return.
#pragma once

#include <string>
#include <variant>

#include "crypto/sign.h"
#include "link/types.h"
#include "wire/frames.h"
#include "wire/linecheck.h"

namespace bc::link {

// The CONTROL frame that asks the peer to answer on the channel described by `here`.
wire::ControlFrame linecheck_request_frame(const LinecheckNonce& nonce,
                                           const wire::ChannelDescriptor& here);

// What to do with the peer's request that arrived on a channel: send this reply frame on that
// same channel, or refuse with a reason for the log. `here` is how this end names the channel
// it arrived on (nullptr when it cannot name it); a request naming another channel is refused,
// so that a relay carrying it elsewhere cannot make that channel pass for working.
using LinecheckAnswer = std::variant<wire::ControlFrame, std::string>;
LinecheckAnswer answer_linecheck_request(util::ByteView body, const wire::ChannelDescriptor* here,
                                         const crypto::SigningKey& self,
                                         const crypto::SignPublicKey& peer);

// Checks the peer's reply to our request that arrived on a channel named `here`. An error: the
// body does not parse (version 1, malformed). Otherwise the reply, valid or refused with why.
struct CheckedLinecheckReply {
  wire::LinecheckNonceBytes nonce{};
  std::string refused;  // empty when valid
};
util::Result<CheckedLinecheckReply> check_linecheck_reply(util::ByteView body,
                                                          const wire::ChannelDescriptor* here,
                                                          const crypto::SignPublicKey& self,
                                                          const crypto::SignPublicKey& peer);

}  // namespace bc::link
