#include "util/base45.h"

#include <array>

namespace bc::util {
namespace {

constexpr std::string_view kAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
static_assert(kAlphabet.size() == 45);

constexpr std::array<std::int8_t, 256> make_values() {
  std::array<std::int8_t, 256> v{};
  for (auto& x : v) x = -1;
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) v[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
  return v;
}
constexpr auto kValues = make_values();

}  // namespace

std::string base45_encode(ByteView in) {
  std::string out;
  out.reserve(in.size() / 2 * 3 + 2);
  std::size_t i = 0;
  for (; i + 1 < in.size(); i += 2) {
    unsigned n = (unsigned{in[i]} << 8) | in[i + 1];
    out += kAlphabet[n % 45];
    out += kAlphabet[(n / 45) % 45];
    out += kAlphabet[n / (45 * 45)];
  }
  if (i < in.size()) {
    unsigned n = in[i];
    out += kAlphabet[n % 45];
    out += kAlphabet[n / 45];
  }
  return out;
}

Result<Bytes> base45_decode(std::string_view in) {
  if (in.size() % 3 == 1) {
    return make_error(Errc::bad_format, "base45 text of " + std::to_string(in.size()) + " characters is truncated");
  }
  std::vector<unsigned> digits;
  digits.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const int v = kValues[static_cast<unsigned char>(in[i])];
    if (v < 0) {
      const unsigned char c = static_cast<unsigned char>(in[i]);
      const std::string shown = c >= 0x21 && c < 0x7f ? std::string(1, static_cast<char>(c))
                                                       : "byte " + std::to_string(unsigned{c});
      return make_error(Errc::bad_format,
                        "'" + shown + "' at position " + std::to_string(i + 1) + " is not a base45 character");
    }
    digits.push_back(static_cast<unsigned>(v));
  }
  Bytes out;
  out.reserve(in.size() / 3 * 2 + 1);
  std::size_t i = 0;
  for (; i + 2 < digits.size(); i += 3) {
    const unsigned n = digits[i] + digits[i + 1] * 45 + digits[i + 2] * 45 * 45;
    if (n > 0xffff) return make_error(Errc::bad_format, "a base45 group out of range at position " + std::to_string(i + 1));
    out.push_back(static_cast<std::uint8_t>(n >> 8));
    out.push_back(static_cast<std::uint8_t>(n & 0xff));
  }
  if (i < digits.size()) {
    const unsigned n = digits[i] + digits[i + 1] * 45;
    if (n > 0xff) return make_error(Errc::bad_format, "the final base45 pair is out of range");
    out.push_back(static_cast<std::uint8_t>(n));
  }
  return out;
}

}  // namespace bc::util
