// Parses arbitrary bytes as a transcript record (link/transcript_record.h). Anything accepted
// must re-encode to a record that parses to the same value, and checking it must return a
// verdict, never crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "link/transcript_check.h"
#include "link/transcript_record.h"

using namespace bc;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto record = link::parse_record(text);
  if (!record.ok()) return 0;
  auto again = link::parse_record(link::encode_record(*record));
  if (!again.ok() || !(*again == *record)) std::abort();
  (void)link::check_record(*record);
  return 0;
}
