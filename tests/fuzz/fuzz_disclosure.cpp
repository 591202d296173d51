// Parses arbitrary bytes as a disclosure (link/disclosure.h). Anything accepted must re-encode
// to a disclosure that parses to the same value; its body must decode or be refused, never
// crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "link/content.h"
#include "link/disclosure.h"

using namespace bc;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto d = link::parse_disclosure(text);
  if (!d.ok()) return 0;
  auto again = link::parse_disclosure(link::encode_disclosure(*d));
  if (!again.ok() || !(*again == *d)) std::abort();
  (void)link::decode_content(d->body);
  return 0;
}
