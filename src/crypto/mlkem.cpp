#include "crypto/mlkem.h"

#include <algorithm>
#include <string>

#include "crypto/mlkem_kpke.h"
#include "crypto/mlkem_poly.h"
#include "crypto/random.h"
#include "crypto/sha3.h"

namespace bc::crypto::mlkem {
namespace {

// Offsets inside dk (Algorithm 16 line 3, Algorithm 18 lines 1-4).
constexpr std::size_t kDkEkOffset = kPkeSecretKeySize;
constexpr std::size_t kDkHashOffset = kDkEkOffset + kEncapsulationKeySize;
constexpr std::size_t kDkZOffset = kDkHashOffset + 32;
static_assert(kDkZOffset + kSeedSize == kDecapsulationKeySize);

util::Error refuse(std::string what) { return util::make_error(util::Errc::bad_format, "ML-KEM-768: " + std::move(what)); }

// 0xFF when a == b, else 0x00, from every byte of both whatever they hold. The empty asm keeps
// the compiler from turning the mask back into an early exit or a branch.
std::uint8_t equal_mask(util::ByteView a, util::ByteView b) {
  std::uint32_t diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= std::uint32_t{a[i]} ^ b[i];
  __asm__("" : "+r"(diff));
  return static_cast<std::uint8_t>((diff - 1) >> 8);  // diff in [0, 255]
}

// out = mask ? a : b, byte by byte, without a branch.
void select(util::MutableByteView out, std::uint8_t mask, util::ByteView a, util::ByteView b) {
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<std::uint8_t>((a[i] & mask) | (b[i] & static_cast<std::uint8_t>(~mask)));
  }
}

}  // namespace

util::Result<void> check_encapsulation_key(util::ByteView ek) {
  if (ek.size() != kEncapsulationKeySize) {
    return refuse("encapsulation key has " + std::to_string(ek.size()) + " bytes, expected " +
                  std::to_string(kEncapsulationKeySize));
  }
  for (std::size_t i = 0; i < kK; ++i) {
    if (!byte_decode12_in_range(ek.subspan(i * kPolyEncodedSize, kPolyEncodedSize))) {
      return refuse("encapsulation key fails the modulus check (a coefficient is not below q)");
    }
  }
  return {};
}

util::Result<void> check_decapsulation_key(util::ByteView dk) {
  if (dk.size() != kDecapsulationKeySize) {
    return refuse("decapsulation key has " + std::to_string(dk.size()) + " bytes, expected " +
                  std::to_string(kDecapsulationKeySize));
  }
  // The hash check compares public values (ek and its hash are both part of dk's public half).
  Sha3_256 h = sha3_256({dk.subspan(kDkEkOffset, kEncapsulationKeySize)});
  if (!std::equal(h.begin(), h.end(), dk.begin() + kDkHashOffset)) {
    return refuse("decapsulation key fails the hash check (stored H(ek) does not match its ek)");
  }
  return {};
}

namespace {

KeyPair keygen_with(util::ByteView d, util::ByteView z, KeyGenSeed seed) {
  if (d.size() != kSeedSize || z.size() != kSeedSize) throw std::invalid_argument("keygen_internal: d and z are 32 bytes");
  KeyPair kp;
  kp.dk = SecureBuffer(kDecapsulationKeySize);
  auto dk = kp.dk.mutable_view();
  kpke_keygen(d, kp.ek, dk.first(kPkeSecretKeySize), seed);
  std::copy(kp.ek.begin(), kp.ek.end(), dk.begin() + kDkEkOffset);
  Sha3_256 h = sha3_256({kp.ek});
  std::copy(h.begin(), h.end(), dk.begin() + kDkHashOffset);
  std::copy(z.begin(), z.end(), dk.begin() + kDkZOffset);
  return kp;
}

}  // namespace

KeyPair keygen_internal(util::ByteView d, util::ByteView z) { return keygen_with(d, z, KeyGenSeed::fips203); }
KeyPair keygen_internal_draft(util::ByteView d, util::ByteView z) { return keygen_with(d, z, KeyGenSeed::ipd_draft); }

KeyPair keygen() {
  SecretArray<kSeedSize> d, z;
  random_fill(d.mutable_view());
  random_fill(z.mutable_view());
  return keygen_internal(d.view(), z.view());
}

util::Result<Encapsulation> encaps_internal(util::ByteView ek, util::ByteView m) {
  BC_TRY_VOID(check_encapsulation_key(ek));
  if (m.size() != kSeedSize) throw std::invalid_argument("encaps_internal: m is 32 bytes");
  // (K, r) = G(m || H(ek))
  Sha3_256 h = sha3_256({ek});
  SecretArray<64> g;
  auto digest = sha3_512({m, h});
  std::copy(digest.begin(), digest.end(), g.data());
  wipe(digest);
  Encapsulation out;
  kpke_encrypt(ek, m, g.view().subspan(32, 32), out.ciphertext);
  out.shared_secret = SecureBuffer(g.view().first(kSharedSecretSize));
  return out;
}

util::Result<Encapsulation> encaps(util::ByteView ek) {
  SecretArray<kSeedSize> m;
  random_fill(m.mutable_view());
  return encaps_internal(ek, m.view());
}

util::Result<SecureBuffer> decaps(util::ByteView dk, util::ByteView ciphertext) {
  if (ciphertext.size() != kCiphertextSize) {
    return refuse("ciphertext has " + std::to_string(ciphertext.size()) + " bytes, expected " +
                  std::to_string(kCiphertextSize));
  }
  BC_TRY_VOID(check_decapsulation_key(dk));
  util::ByteView dk_pke = dk.first(kPkeSecretKeySize);
  util::ByteView ek_pke = dk.subspan(kDkEkOffset, kEncapsulationKeySize);
  util::ByteView h = dk.subspan(kDkHashOffset, 32);
  util::ByteView z = dk.subspan(kDkZOffset, kSeedSize);

  SecretArray<kSeedSize> m;
  kpke_decrypt(dk_pke, ciphertext, m.mutable_view());
  SecretArray<64> g;  // (K', r') = G(m' || h)
  auto digest = sha3_512({m.view(), h});
  std::copy(digest.begin(), digest.end(), g.data());
  wipe(digest);
  SecretArray<kSharedSecretSize> rejected;  // K̄ = J(z || c)
  shake256({z, ciphertext}, rejected.mutable_view());
  Ciphertext again{};
  kpke_encrypt(ek_pke, m.view(), g.view().subspan(32, 32), again);
  // Implicit rejection: K' when the re-encryption matches, K̄ otherwise, chosen without a branch
  // so that the time and memory trace do not say which (the comparison result is secret).
  SecureBuffer key(kSharedSecretSize);
  select(key.mutable_view(), equal_mask(ciphertext, again), g.view().first(kSharedSecretSize), rejected.view());
  wipe(again);
  return key;
}

}  // namespace bc::crypto::mlkem
