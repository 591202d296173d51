// Base64 (RFC 4648 §4, with padding): how the application interface carries file bytes in JSON.
#pragma once

#include <string>

#include "util/bytes.h"

namespace bc::util {

std::string base64_encode(ByteView data);

}  // namespace bc::util
