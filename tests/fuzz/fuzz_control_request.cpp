// Feeds arbitrary lines to the control socket's request parser (what any local process that can
// reach the socket could send): it must never crash, and what it accepts must re-encode to a
// request that parses the same.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "node/control_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  auto request = bc::node::parse_control_request(line);
  if (request.ok()) {
    auto again = bc::node::parse_control_request(bc::node::encode_control_request(*request));
    if (!again.ok() || again->op != request->op || again->contact != request->contact ||
        again->timeout != request->timeout)
      std::abort();
  }
  return 0;
}
