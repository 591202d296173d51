// The courier's paper parts (channel/courier_paper.h) on arbitrary input: each line a part's
// text as a scanner might return it. Whatever parses must re-encode: the parts of an assembled
// set, cut again from the bundle they make, parse to the same set. base45 decodes what it
// encodes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "channel/courier_paper.h"
#include "util/base45.h"

using namespace bc;
namespace courier = bc::channel::courier;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const util::ByteView raw(data, size);
  if (util::base45_decode(util::base45_encode(raw)).value() != util::Bytes(raw.begin(), raw.end())) std::abort();

  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<courier::PaperPart> parts;
  for (std::size_t at = 0; at <= text.size();) {
    std::size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    auto part = courier::parse_paper_part(text.substr(at, end - at));
    if (part.ok()) {
      if (part->index == 0 || part->index > part->count || part->count > courier::kMaxPaperParts) std::abort();
      if (part->chunk.empty() || part->chunk.size() > courier::kPaperChunkSize) std::abort();
      parts.push_back(std::move(*part));
    }
    at = end + 1;
  }
  if (parts.empty()) return 0;
  auto bundle = courier::assemble_paper(parts);
  if (!bundle.ok()) return 0;
  if (courier::paper_set_id(*bundle) != parts.front().set) std::abort();
  auto again = courier::paper_parts(*bundle);
  if (!again.ok()) return 0;  // cut by someone else into more parts than we make
  std::vector<courier::PaperPart> reparsed;
  for (const auto& t : *again) reparsed.push_back(courier::parse_paper_part(t).value());
  if (courier::assemble_paper(reparsed).value() != *bundle) std::abort();
  return 0;
}
