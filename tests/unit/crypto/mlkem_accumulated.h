// The accumulated check of the ML-KEM vectors (tests/vectors/ml-kem/SOURCE.md): n tests drawn
// from a SHAKE-128 stream, every output absorbed into a running SHAKE-128. Returns its first 32
// bytes as hex, or a description of the first test whose Encaps and Decaps keys disagree or whose
// rejection key is not J(z || ct).
#pragma once

#include <cstddef>
#include <string>

namespace bc::crypto::mlkem::testing {

std::string accumulated_hash(std::size_t tests);

}  // namespace bc::crypto::mlkem::testing
