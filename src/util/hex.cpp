#include "util/hex.h"

namespace bc::util {
namespace {

// Maps 0..15 to '0'..'9','a'..'f' with arithmetic only: for n > 9 the mask adds the gap
// between '9'+1 and 'a'.
char nibble_to_hex(unsigned n) {
  unsigned over9 = (9u - n) >> 8;  // all ones when n > 9 (unsigned wrap), else zero
  return static_cast<char>('0' + n + (over9 & 39u));
}

int hex_to_nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string hex_encode(ByteView in) {
  std::string out;
  out.reserve(in.size() * 2);
  for (std::uint8_t b : in) {
    out.push_back(nibble_to_hex(b >> 4u));
    out.push_back(nibble_to_hex(b & 15u));
  }
  return out;
}

Result<Bytes> hex_decode(std::string_view in) {
  if (in.size() % 2 != 0) return make_error(Errc::bad_format, "hex string has odd length");
  Bytes out;
  out.reserve(in.size() / 2);
  for (std::size_t i = 0; i < in.size(); i += 2) {
    int hi = hex_to_nibble(in[i]);
    int lo = hex_to_nibble(in[i + 1]);
    if (hi < 0 || lo < 0) {
      return make_error(Errc::bad_format, "not a hex digit at position " + std::to_string(i + 1));
    }
    out.push_back(static_cast<std::uint8_t>((hi << 4) | lo));
  }
  return out;
}

}  // namespace bc::util
