#include "util/base32.h"

#include <cstdint>

namespace bc::util {
namespace {

constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz234567";

int decode_char(char c) {
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= '2' && c <= '7') return c - '2' + 26;
  return -1;
}

}  // namespace

std::string base32_encode(ByteView in) {
  std::string out;
  out.reserve((in.size() * 8 + 4) / 5);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (std::uint8_t byte : in) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kAlphabet[(buffer >> (bits - 5)) & 31u]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (5 - bits)) & 31u]);
  return out;
}

Result<Bytes> base32_decode(std::string_view in, bool strict_ending) {
  Bytes out;
  out.reserve(in.size() * 5 / 8);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '-') continue;
    int v = decode_char(c);
    if (v < 0) {
      std::string shown = (c >= 0x21 && c < 0x7f) ? std::string(1, c) : "non-printable byte";
      return make_error(Errc::bad_format, "character '" + shown + "' at position " +
                                              std::to_string(i + 1) + " is not base32");
    }
    buffer = (buffer << 5) | static_cast<std::uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<std::uint8_t>(buffer >> (bits - 8)));
      bits -= 8;
    }
    buffer &= 0xffu;
  }
  // A canonical encoding leaves fewer than 5 bits over, all zero.
  if (strict_ending && (bits >= 5 || (buffer & ((1u << bits) - 1u)) != 0)) {
    return make_error(Errc::bad_format, "base32 string has a malformed ending");
  }
  return out;
}

}  // namespace bc::util
