#include "session/safety_number.h"

#include <algorithm>

#include "crypto/hash.h"

namespace bc::session {
namespace {

// 30 digits for one key: an iterated hash (to make a key with chosen digits costly to
// search for), cut into six 40-bit chunks, each reduced mod 100000.
std::string half(const crypto::SignPublicKey& key) {
  util::Bytes h = crypto::blake2b_n(64, {util::as_bytes("backchannel safety number v1"), key});
  for (int i = 1; i < kSafetyNumberIterations; ++i) h = crypto::blake2b_n(64, {h, key});
  std::string out;
  for (std::size_t chunk = 0; chunk < 6; ++chunk) {
    std::uint64_t v = 0;
    for (std::size_t j = 0; j < 5; ++j) v = (v << 8) | h[chunk * 5 + j];
    std::string digits = std::to_string(v % 100000);
    out += std::string(5 - digits.size(), '0') + digits;
  }
  return out;
}

}  // namespace

std::string safety_number(const crypto::SignPublicKey& a, const crypto::SignPublicKey& b) {
  const auto& first = std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end()) ? a : b;
  const auto& second = (&first == &a) ? b : a;
  std::string digits = half(first) + half(second);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); i += 5) {
    if (i > 0) out += ' ';
    out += digits.substr(i, 5);
  }
  return out;
}

}  // namespace bc::session
