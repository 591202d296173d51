#include "link/linecheck.h"

#include <algorithm>

namespace bc::link {

namespace {

// kLinecheckSignatureLabel || requester key || replier key || nonce || channel descriptor
// (wire/linecheck.h): the channel is signed, so a reply moved to another channel is refused.
util::Bytes signing_bytes(const crypto::SignPublicKey& requester,
                          const crypto::SignPublicKey& replier,
                          const wire::LinecheckNonceBytes& nonce,
                          const wire::ChannelDescriptor& channel) {
  util::Bytes b(wire::kLinecheckSignatureLabel.begin(), wire::kLinecheckSignatureLabel.end());
  util::append(b, requester);
  util::append(b, replier);
  util::append(b, wire::linecheck_signed_part(nonce, channel));
  return b;
}

}  // namespace

wire::ControlFrame linecheck_request_frame(const LinecheckNonce& nonce,
                                           const wire::ChannelDescriptor& here) {
  wire::LinecheckRequest request;
  std::copy(nonce.begin(), nonce.end(), request.nonce.begin());
  request.channel = here;
  return wire::ControlFrame{wire::ControlType::linecheck_request,
                            wire::encode_linecheck_request(request)};
}

LinecheckAnswer answer_linecheck_request(util::ByteView body, const wire::ChannelDescriptor* here,
                                         const crypto::SigningKey& self,
                                         const crypto::SignPublicKey& peer) {
  auto request = wire::parse_linecheck_request(body);
  if (!request.ok()) return request.error().message;
  if (here == nullptr) return std::string("line check request on a channel this node cannot name");
  if (request->channel != *here) {
    return "line check request for channel " + wire::describe(request->channel) + " arrived on " +
           wire::describe(*here);
  }
  wire::LinecheckReply reply;
  reply.nonce = request->nonce;
  reply.channel = *here;
  const crypto::Signature sig =
      self.sign(signing_bytes(peer, self.public_key(), reply.nonce, reply.channel));
  std::copy(sig.begin(), sig.end(), reply.signature.begin());
  return wire::ControlFrame{wire::ControlType::linecheck_reply,
                            wire::encode_linecheck_reply(reply)};
}

util::Result<CheckedLinecheckReply> check_linecheck_reply(util::ByteView body,
                                                          const wire::ChannelDescriptor* here,
                                                          const crypto::SignPublicKey& self,
                                                          const crypto::SignPublicKey& peer) {
  auto parsed = wire::parse_linecheck_reply(body);
  if (!parsed.ok()) return parsed.error();
  CheckedLinecheckReply r;
  r.nonce = parsed->nonce;
  if (!crypto::verify(peer, signing_bytes(self, peer, parsed->nonce, parsed->channel),
                      parsed->signature)) {
    r.refused = "the reply's signature does not verify";
  } else if (here == nullptr || parsed->channel != *here) {
    // Genuine, but for another channel: carried here by whoever moved it.
    r.refused =
        "the reply answers for channel " + wire::describe(parsed->channel) + " but arrived on " +
        (here != nullptr ? wire::describe(*here) : std::string("a channel this node cannot name"));
  }
  return r;
}

}  // namespace bc::link
