#include "channel/courier_paper.h"

#include <algorithm>
#include <map>

#include "crypto/hash.h"
#include "util/base45.h"
#include "util/hex.h"

namespace bc::channel::courier {
namespace {

util::ByteView label(std::string_view s) {
  return util::ByteView(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

util::ByteArray<kPaperCheckSize> part_check(const PaperSetId& set, std::uint8_t index, std::uint8_t count,
                                            util::ByteView chunk) {
  const std::uint8_t numbers[2] = {index, count};
  const crypto::Hash h = crypto::blake2b({label(kPaperCheckLabel), set, util::ByteView(numbers, 2), chunk});
  util::ByteArray<kPaperCheckSize> out{};
  std::copy_n(h.begin(), kPaperCheckSize, out.begin());
  return out;
}

util::Error refuse(std::string what) { return util::make_error(util::Errc::bad_format, std::move(what)); }

}  // namespace

PaperSetId paper_set_id(util::ByteView bundle) {
  const crypto::Hash h = crypto::blake2b({label(kPaperSetLabel), bundle});
  PaperSetId id{};
  std::copy_n(h.begin(), kPaperSetIdSize, id.begin());
  return id;
}

util::Result<std::vector<std::string>> paper_parts(util::ByteView bundle) {
  const std::size_t count = (bundle.size() + kPaperChunkSize - 1) / kPaperChunkSize;
  if (count == 0 || count > kMaxPaperParts) {
    return util::make_error(util::Errc::limit, "a bundle of " + std::to_string(bundle.size()) +
                                                   " bytes does not fit on paper (at most " +
                                                   std::to_string(kMaxPaperParts) + " QR codes)");
  }
  // Slices of equal length (the last shorter), so no code is much denser than the others.
  const std::size_t slice = (bundle.size() + count - 1) / count;
  const PaperSetId set = paper_set_id(bundle);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < count; ++i) {
    const util::ByteView chunk = bundle.subspan(i * slice, std::min(slice, bundle.size() - i * slice));
    const auto index = static_cast<std::uint8_t>(i + 1);
    const auto n = static_cast<std::uint8_t>(count);
    util::Bytes raw(set.begin(), set.end());
    raw.push_back(index);
    raw.push_back(n);
    util::append(raw, part_check(set, index, n, chunk));
    util::append(raw, chunk);
    out.push_back(std::string(kPaperPrefix) + util::base45_encode(raw));
  }
  return out;
}

util::Result<PaperPart> parse_paper_part(std::string_view text) {
  if (text.size() > kMaxPaperPartText) {
    return refuse("not a paper part: " + std::to_string(text.size()) + " characters (a part has at most " +
                  std::to_string(kMaxPaperPartText) + ")");
  }
  if (text.substr(0, kPaperPrefix.size()) != kPaperPrefix) {
    return refuse("not a paper part of a courier bundle (it does not start with " + std::string(kPaperPrefix) + ")");
  }
  auto raw = util::base45_decode(text.substr(kPaperPrefix.size()));
  if (!raw.ok()) return refuse("a damaged paper part: " + raw.error().message);
  if (raw->size() <= kPaperHeaderSize) return refuse("a damaged paper part: too short");
  PaperPart part;
  std::copy_n(raw->begin(), kPaperSetIdSize, part.set.begin());
  const std::uint8_t index = (*raw)[kPaperSetIdSize];
  const std::uint8_t count = (*raw)[kPaperSetIdSize + 1];
  const util::ByteView check = util::ByteView(*raw).subspan(kPaperSetIdSize + 2, kPaperCheckSize);
  const util::ByteView chunk = util::ByteView(*raw).subspan(kPaperHeaderSize);
  if (chunk.size() > kPaperChunkSize) return refuse("a damaged paper part: its slice is too long");
  if (count == 0 || count > kMaxPaperParts || index == 0 || index > count) {
    return refuse("a damaged paper part: part " + std::to_string(index) + " of " + std::to_string(count));
  }
  const auto expected = part_check(part.set, index, count, chunk);
  if (!std::equal(expected.begin(), expected.end(), check.begin())) {
    return refuse("paper part " + std::to_string(index) + " of " + std::to_string(count) + " (set " +
                  util::hex_encode(part.set) + ") is damaged: its check does not match");
  }
  part.index = index;
  part.count = count;
  part.chunk.assign(chunk.begin(), chunk.end());
  return part;
}

util::Result<util::Bytes> assemble_paper(const std::vector<PaperPart>& parts) {
  if (parts.empty()) return refuse("no paper part given");
  const PaperPart& first = parts.front();
  std::map<std::size_t, const PaperPart*> by_index;
  for (const PaperPart& p : parts) {
    if (p.set != first.set || p.count != first.count) {
      return refuse("the parts are of more than one set (" + util::hex_encode(first.set) + " with " +
                    std::to_string(first.count) + " parts, " + util::hex_encode(p.set) + " with " +
                    std::to_string(p.count) + "): import one set at a time");
    }
    if (p.index == 0 || p.index > p.count) return refuse("a paper part numbered out of its set");
    auto [at, inserted] = by_index.emplace(p.index, &p);
    if (!inserted && at->second->chunk != p.chunk) {
      return refuse("two different parts numbered " + std::to_string(p.index) + " in set " +
                    util::hex_encode(first.set));
    }
  }
  std::string missing;
  std::size_t n_missing = 0;
  for (std::size_t i = 1; i <= first.count; ++i) {
    if (by_index.count(i) == 0) {
      missing += (missing.empty() ? "" : ", ") + std::to_string(i);
      ++n_missing;
    }
  }
  if (n_missing > 0) {
    return util::make_error(util::Errc::not_found,
                            (n_missing == 1 ? "part " : "parts ") + missing + " of " + std::to_string(first.count) +
                                " of set " + util::hex_encode(first.set) + (n_missing == 1 ? " is" : " are") +
                                " missing: scan every part of the set; nothing imported");
  }
  util::Bytes bundle;
  for (const auto& [index, part] : by_index) util::append(bundle, part->chunk);
  if (paper_set_id(bundle) != first.set) {
    return refuse("the parts of set " + util::hex_encode(first.set) +
                  " do not make its bundle (a part was altered, or the parts were cut differently): nothing imported");
  }
  return bundle;
}

}  // namespace bc::channel::courier
