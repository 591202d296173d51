// Safety numbers: 60 digits both operators read to each other by voice to confirm that each
// holds the other's real identity key. The same on both sides: the two halves are ordered by
// key, not by who computes. Derivation in docs/protocol.md "Safety number".
#pragma once

#include <string>

#include "crypto/sign.h"

namespace bc::session {

inline constexpr int kSafetyNumberIterations = 5200;

// 60 digits, in 12 groups of 5 separated by spaces.
std::string safety_number(const crypto::SignPublicKey& a, const crypto::SignPublicKey& b);

}  // namespace bc::session
