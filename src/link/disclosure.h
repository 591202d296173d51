// A disclosure: one message of a link shown to a third party, body (salt included) and all,
// so it can be checked against a transcript record of that link (docs/protocol.md
// "Disclosure"). `transcript reveal` writes one from either side's store; `transcript
// check-disclosure` checks it with the record alone. A disclosure is outside input:
// parse_disclosure() is strict and fuzzed (tests/fuzz/fuzz_disclosure.cpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "link/content.h"
#include "link/transcript_check.h"
#include "link/transcript_record.h"
#include "util/result.h"

namespace bc::link {

inline constexpr std::string_view kDisclosureFormat = "backchannel disclosure";
inline constexpr int kDisclosureVersion = 1;
// The hex of the largest body plus room for the other fields.
inline constexpr std::size_t kMaxDisclosureBytes = 2 * wire::kMaxMessageSize + 4096;

struct Disclosure {
  RecordParty sender;
  RecordParty receiver;
  RecordEntry entry;  // seq, precedence, sent_at_ms; body_hash = BLAKE2b-256(body)
  util::Bytes body;
  bool operator==(const Disclosure&) const = default;
};

// What a disclosure proves against a record that checks.
struct DisclosureCheck {
  std::string direction;         // "outgoing" or "incoming", as the record names it
  Content content;               // the body decoded
  bool receiver_signed = false;  // a signature of the receiver covers this seq
  bool sender_signed = false;    // the sender's end statement covers it
  std::optional<std::int64_t> received_by_ms;  // the earliest signed receive time, if any
};

std::string encode_disclosure(const Disclosure& d);
util::Result<Disclosure> parse_disclosure(std::string_view text);

// Checks the record (check_record), then that the disclosure's parties are the record's two
// parties in one direction, that the record holds the seq, and that its entry has the
// disclosure's precedence, sent_at and BLAKE2b-256(body). checksum when the body or the entry
// differs, bad_format when the disclosure is not of this record's link.
util::Result<DisclosureCheck> check_disclosure(const Disclosure& d, const TranscriptRecord& record);

}  // namespace bc::link
