// RFC 9285 base45: two bytes as three characters of the QR code's alphanumeric set (0-9, A-Z,
// space, $%*+-./:), so text in it fills a QR code in alphanumeric mode at 97% of the density of
// binary mode, and every scanner returns it intact (no character-set guessing, as byte mode
// invites). Used for the courier's paper parts.
#pragma once

#include <string>
#include <string_view>

#include "util/bytes.h"
#include "util/result.h"

namespace bc::util {

std::string base45_encode(ByteView in);

// Refuses any character outside the alphabet (naming it and its position), a length of the form
// 3k+1, and a group whose value is out of range (RFC 9285 section 6: above 65535, or above 255
// for a final pair).
Result<Bytes> base45_decode(std::string_view in);

}  // namespace bc::util
