// Hex encoding whose running time does not depend on the bytes, so it may print key
// fingerprints and hashes of secrets without a timing side channel.
#pragma once

#include <string>
#include <string_view>

#include "util/bytes.h"
#include "util/result.h"

namespace bc::util {

std::string hex_encode(ByteView in);
Result<Bytes> hex_decode(std::string_view in);

}  // namespace bc::util
