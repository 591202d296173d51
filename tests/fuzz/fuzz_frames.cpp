// Parses arbitrary bytes as frames. Anything accepted must be valid by the encoder's rules
// and must re-encode to the very same bytes; a payload-sized input must also parse as a
// payload with the same frames minus padding. The body of a line check CONTROL frame that its
// strict parser (wire/linecheck.h) accepts must re-encode to the same bytes too.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <variant>

#include "wire/frame_codec.h"
#include "wire/linecheck.h"
#include "wire/payload_builder.h"

using namespace bc;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  util::ByteView in(data, size);
  auto frames = wire::parse_frames(in);
  auto payload =
      size == wire::kEnvelopePayloadSize ? wire::parse_payload(in) : wire::parse_frames({});
  if (!frames.ok()) {
    if (size == wire::kEnvelopePayloadSize && payload.ok()) std::abort();
    return 0;
  }

  util::ByteWriter w;
  std::vector<wire::Frame> non_padding;
  for (const wire::Frame& f : *frames) {
    if (!wire::encode_frame(f, w).ok()) std::abort();
    if (const auto* c = std::get_if<wire::ControlFrame>(&f)) {
      if (c->type == wire::ControlType::linecheck_request) {
        auto r = wire::parse_linecheck_request(c->body);
        if (r.ok() && wire::encode_linecheck_request(*r) != c->body) std::abort();
      } else if (c->type == wire::ControlType::linecheck_reply) {
        auto r = wire::parse_linecheck_reply(c->body);
        if (r.ok() && wire::encode_linecheck_reply(*r) != c->body) std::abort();
      }
    }
    if (!std::holds_alternative<wire::PaddingFrame>(f)) non_padding.push_back(f);
  }
  if (w.size() != size) std::abort();
  for (std::size_t i = 0; i < size; ++i) {
    if (w.buffer()[i] != data[i]) std::abort();
  }

  if (size == wire::kEnvelopePayloadSize) {
    if (!payload.ok() || *payload != non_padding) std::abort();
    // Packing the same frames again yields a payload that parses to them.
    wire::PayloadBuilder builder;
    for (const wire::Frame& f : non_padding) {
      if (!builder.add(f).ok()) std::abort();
    }
    auto again = wire::parse_payload(builder.finish());
    if (!again.ok() || *again != non_padding) std::abort();
  }
  return 0;
}
