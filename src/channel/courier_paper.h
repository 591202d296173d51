// The courier on paper (docs/protocol.md "Paper parts"): a small bundle (channel/courier_bundle.h,
// padded to a paper bucket) cut into parts that each fit one QR code. A part is text in the QR
// code's alphanumeric set: a prefix, then base45 (RFC 9285) of a small header naming the set,
// the part's index and the count, a check of the part, and a slice of the bundle. Parts may be
// scanned in any order and twice; a set is put back together only when every part is there, of
// one set, and undamaged. Pure functions: no file, no image; the CLI draws and scans the codes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/bytes.h"
#include "util/result.h"

namespace bc::channel::courier {

// ---- spec constants (docs/protocol.md) --------------------------------------------------------
inline constexpr std::string_view kPaperPrefix = "BCQ1:";
inline constexpr std::string_view kPaperSetLabel = "backchannel courier paper set v1";
inline constexpr std::string_view kPaperCheckLabel = "backchannel courier paper part v1";
inline constexpr std::size_t kPaperSetIdSize = 8;
inline constexpr std::size_t kPaperCheckSize = 4;
inline constexpr std::size_t kPaperHeaderSize = kPaperSetIdSize + 1 + 1 + kPaperCheckSize;  // 14

// ---- implementation limits ---------------------------------------------------------------------
// A slice of at most 700 bytes makes a code of at most 1,076 alphanumeric characters: QR version
// 22 at error correction level M (105 modules a side), which a phone reads off paper or a screen.
inline constexpr std::size_t kPaperChunkSize = 700;
inline constexpr std::size_t kMaxPaperParts = 32;
inline constexpr std::size_t kMaxPaperPartText =
    kPaperPrefix.size() + (kPaperHeaderSize + kPaperChunkSize) / 2 * 3 + 2;

using PaperSetId = util::ByteArray<kPaperSetIdSize>;

struct PaperPart {
  PaperSetId set{};
  std::size_t index = 0;  // 1..count
  std::size_t count = 0;
  util::Bytes chunk;
};

// The set id of a bundle: the first 8 bytes of BLAKE2b-256 over the label and the bundle's bytes.
PaperSetId paper_set_id(util::ByteView bundle);

// The parts of a bundle, in order (refused when it takes more than kMaxPaperParts).
util::Result<std::vector<std::string>> paper_parts(util::ByteView bundle);

// One part's text, exactly as the QR code holds it (strict: the prefix, base45, the header's
// ranges, the check; nothing before or after).
util::Result<PaperPart> parse_paper_part(std::string_view text);

// The bundle put back together from parts in any order, the same part given more than once
// counting once. Refused, naming what is wrong: parts of more than one set, a part missing, two
// different parts under one number, or parts whose bundle does not match its set id.
util::Result<util::Bytes> assemble_paper(const std::vector<PaperPart>& parts);

}  // namespace bc::channel::courier
