#include "util/result.h"

namespace bc::util {

const char* errc_name(Errc code) {
  switch (code) {
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::bad_format: return "bad_format";
    case Errc::truncated: return "truncated";
    case Errc::checksum: return "checksum";
    case Errc::bad_signature: return "bad_signature";
    case Errc::unsupported_version: return "unsupported_version";
    case Errc::expired: return "expired";
    case Errc::limit: return "limit";
    case Errc::not_found: return "not_found";
    case Errc::already_exists: return "already_exists";
    case Errc::refused: return "refused";
    case Errc::crypto: return "crypto";
    case Errc::io: return "io";
    case Errc::store: return "store";
    case Errc::internal: return "internal";
  }
  return "unknown";
}

}  // namespace bc::util
