// Two transcript records, separated by the first NUL byte (which no JSON text holds), parsed
// and checked jointly (link/transcript_joint.h), as `transcript check A.json B.json` does.
// The check must return a verdict, never crash, and its verdict must be coherent: records that
// part name only pairs of signatures over two different heads, at most the listed cap.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "link/transcript_joint.h"
#include "link/transcript_record.h"

using namespace bc;

namespace {

void check_direction(const link::JointDirection& d) {
  if (d.parted_at == 0 && d.conflicts_total != 0) std::abort();
  if (d.parted_at != 0 && d.parted_at != d.agreed + 1) std::abort();
  if (d.conflicts.size() > link::kMaxListedConflicts || d.conflicts.size() > d.conflicts_total) std::abort();
  for (const link::JointConflict& c : d.conflicts) {
    if (c.first.seq < d.parted_at || c.second.seq < d.parted_at) std::abort();
    if (c.first.seq == c.second.seq && c.first.head == c.second.head) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::size_t nul = text.find('\0');
  if (nul == std::string_view::npos) return 0;
  auto first = link::parse_record(text.substr(0, nul));
  if (!first.ok()) return 0;
  auto second = link::parse_record(text.substr(nul + 1));
  if (!second.ok()) return 0;
  auto joint = link::check_joint(*first, *second);
  if (!joint.ok()) return 0;
  check_direction(joint->first_to_second);
  check_direction(joint->second_to_first);
  return 0;
}
