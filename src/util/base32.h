// RFC 4648 base32, lowercase alphabet, no padding. Used for invitation strings, which people
// copy, read aloud and type: decoding is case-insensitive and skips spaces, tabs, newlines and
// '-' so a wrapped or grouped string still decodes.
#pragma once

#include <string>
#include <string_view>

#include "util/bytes.h"
#include "util/result.h"

namespace bc::util {

std::string base32_encode(ByteView in);

// Refuses any other character, naming it and its position. With strict_ending (the default)
// also refuses an ending that no encoder produces; without, drops the leftover bits, so a
// caller can tell a truncated string from a mistyped one by the length it finds.
Result<Bytes> base32_decode(std::string_view in, bool strict_ending = true);

}  // namespace bc::util
