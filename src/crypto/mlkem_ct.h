// Hooks for the constant-time test (tests/unit/crypto/mlkem_ct_test.cpp), which runs ML-KEM under
// valgrind's memcheck with the secret inputs marked undefined (the ctgrind method): memcheck then
// reports every branch and every memory address that depends on a secret.
//
// declassify() must be called on a value derived from secrets that the spec makes public, before
// the code branches on it (the matrix seed rho of KeyGen, which goes into the encapsulation key).
// Outside valgrind the client request is a few instructions that do nothing.
#pragma once

#include <valgrind/memcheck.h>

#include "util/bytes.h"

namespace bc::crypto::mlkem {

inline void declassify(util::ByteView public_value) {
  (void)VALGRIND_MAKE_MEM_DEFINED(public_value.data(), public_value.size());
}

}  // namespace bc::crypto::mlkem
