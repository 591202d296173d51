// What an operator sends, inside a message body: text or a named file.
//
//   kind u8 (1 text, 2 file) ‖ [file: name length u8 ‖ name] ‖ bytes
//
// The body, header included, is what the transcript hashes. Parsed strictly: it comes from the
// counterpart.
#pragma once

#include <string>

#include "util/bytes.h"
#include "util/result.h"
#include "wire/spec.h"

namespace bc::link {

enum class ContentKind : std::uint8_t { text = 1, file = 2 };

inline constexpr std::size_t kMaxFileNameLength = 255;
// Room for the largest header inside wire::kMaxMessageSize.
inline constexpr std::size_t kMaxContentHeader = 2 + kMaxFileNameLength;
inline constexpr std::uint64_t kMaxContentBytes = wire::kMaxMessageSize - kMaxContentHeader;

struct Content {
  ContentKind kind = ContentKind::text;
  std::string file_name;  // file only: a plain name, no folders
  util::Bytes bytes;
};

// A file name as it may travel: 1..255 bytes, no '/', no NUL, not "." or "..".
util::Result<void> check_file_name(std::string_view name);
util::Bytes encode_content(const Content& content);
util::Result<Content> decode_content(util::ByteView body);

}  // namespace bc::link
