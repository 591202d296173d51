// What an operator sends, inside a message body: text or a named file, salted.
//
//   salted (sent since transcripts chain salted commitments):
//     0x03 ‖ salt (32 random bytes) ‖ inner
//   inner, and the whole body of messages from before salting:
//     kind u8 (1 text, 2 file) ‖ [file: name length u8 ‖ name] ‖ bytes
//
// The body, header and salt included, is what the transcript hashes: with the salt in it,
// BLAKE2b-256(body) is a commitment that reveals nothing to someone who guesses the text
// (docs/protocol.md "Hashes and bodies"). Both sides keep the body, so either can disclose one
// message (salt and content) to a third party. Parsed strictly: it comes from the counterpart.
#pragma once

#include <string>

#include "util/bytes.h"
#include "util/result.h"
#include "wire/spec.h"

namespace bc::link {

enum class ContentKind : std::uint8_t { text = 1, file = 2 };

// Spec constants (docs/protocol.md).
inline constexpr std::uint8_t kSaltedContentTag = 0x03;
inline constexpr std::size_t kContentSaltSize = 32;
using ContentSalt = util::ByteArray<kContentSaltSize>;

inline constexpr std::size_t kMaxFileNameLength = 255;
// Room for the largest header (salt tag and salt, kind, file name) inside wire::kMaxMessageSize.
inline constexpr std::size_t kMaxContentHeader = 1 + kContentSaltSize + 2 + kMaxFileNameLength;
inline constexpr std::uint64_t kMaxContentBytes = wire::kMaxMessageSize - kMaxContentHeader;

struct Content {
  ContentKind kind = ContentKind::text;
  std::string file_name;  // file only: a plain name, no folders
  util::Bytes bytes;
  bool salted = false;    // set by decode_content: the body carried a salt
};

// A file name as it may travel: 1..255 bytes, no '/', no NUL, not "." or "..".
util::Result<void> check_file_name(std::string_view name);
// The unsalted form (what bodies were before salting; kept for them and for tests).
util::Bytes encode_content(const Content& content);
// The form every new message takes; the caller draws the salt at random (link::submit does).
util::Bytes encode_salted_content(const Content& content, const ContentSalt& salt);
// The size encode_salted_content gives, without encoding.
std::uint64_t salted_body_size(const Content& content);
// Either form.
util::Result<Content> decode_content(util::ByteView body);

}  // namespace bc::link
