// ML-KEM-768, the module-lattice key-encapsulation mechanism of FIPS 203, written here from the
// standard because no Debian 12 library has it. Hashes come from OpenSSL 3.0 (sha3.h), randomness
// from libsodium (random.h).
//
// The inviter (or whoever wants to receive a shared secret) calls keygen() and publishes ek; the
// other side calls encaps(ek) and sends the ciphertext; the key holder calls decaps(dk, ct). Both
// then hold the same 32-byte secret. decaps never reports a bad ciphertext: it returns a
// pseudorandom secret instead (implicit rejection), so a forged ciphertext shows only later, as
// a key that does not match.
//
// Input checks (FIPS 203 §7.2, §7.3): encaps refuses an ek of the wrong length or with an encoded
// coefficient >= q (the modulus check); decaps refuses a dk or ciphertext of the wrong length and
// a dk whose stored H(ek) does not match its ek (the hash check). Refusals are Result errors.
#pragma once

#include "crypto/mlkem_params.h"
#include "crypto/secure_buffer.h"
#include "util/bytes.h"
#include "util/result.h"

namespace bc::crypto::mlkem {

using EncapsulationKey = util::ByteArray<kEncapsulationKeySize>;
using Ciphertext = util::ByteArray<kCiphertextSize>;

struct KeyPair {
  EncapsulationKey ek{};
  SecureBuffer dk;  // kDecapsulationKeySize bytes: dk_pke || ek || H(ek) || z
};

struct Encapsulation {
  Ciphertext ciphertext{};
  SecureBuffer shared_secret;  // kSharedSecretSize bytes
};

// Algorithm 19 with fresh randomness.
KeyPair keygen();
// Algorithm 16: deterministic from the 32-byte seeds d and z. For tests, and for a caller that
// stores the 64-byte seed instead of the expanded key.
KeyPair keygen_internal(util::ByteView d, util::ByteView z);
// The same with the seed expansion of the August 2023 draft (see KeyGenSeed in mlkem_kpke.h):
// only for the test vectors that target the draft. Encaps and Decaps did not change.
KeyPair keygen_internal_draft(util::ByteView d, util::ByteView z);

// Algorithm 20 with fresh randomness; refuses a malformed ek (see above).
util::Result<Encapsulation> encaps(util::ByteView ek);
// Algorithm 17 (after the input checks of Algorithm 20): deterministic from the 32-byte m.
util::Result<Encapsulation> encaps_internal(util::ByteView ek, util::ByteView m);

// Algorithm 21 (input checks) and 18.
util::Result<SecureBuffer> decaps(util::ByteView dk, util::ByteView ciphertext);

// The checks alone, for a caller that receives a key and stores it for later.
util::Result<void> check_encapsulation_key(util::ByteView ek);
util::Result<void> check_decapsulation_key(util::ByteView dk);

}  // namespace bc::crypto::mlkem
