// Parses arbitrary bytes as one relay protocol message. Anything accepted must re-encode to the
// very same bytes: the codec has one encoding per message, so a relay and a node never disagree
// on what a message says (a PADDED one: the same inner request in the same size).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "wire/relay_protocol.h"

using namespace bc;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto message = wire::relay::decode(util::ByteView(data, size));
  if (!message.ok()) return 0;
  // A PADDED message decodes to its inner request; its one encoding is that request padded to the
  // same size.
  const bool padded = data[0] == static_cast<std::uint8_t>(wire::relay::Type::padded);
  util::Bytes again = padded ? wire::relay::encode_padded(*message, size) : wire::relay::encode(*message);
  if (again.size() != size) std::abort();
  for (std::size_t i = 0; i < size; ++i) {
    if (again[i] != data[i]) std::abort();
  }
  return 0;
}
