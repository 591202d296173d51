// Parses arbitrary bytes as one relay protocol message. Anything accepted must re-encode to the
// very same bytes: the codec has one encoding per message, so a relay and a node never disagree
// on what a message says.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "wire/relay_protocol.h"

using namespace bc;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto message = wire::relay::decode(util::ByteView(data, size));
  if (!message.ok()) return 0;
  util::Bytes again = wire::relay::encode(*message);
  if (again.size() != size) std::abort();
  for (std::size_t i = 0; i < size; ++i) {
    if (again[i] != data[i]) std::abort();
  }
  return 0;
}
