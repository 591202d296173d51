// SHA-3 and SHAKE (FIPS 202) from OpenSSL 3.0's EVP interface, for ML-KEM (FIPS 203 §4.1:
// H = SHA3-256, G = SHA3-512, J and PRF = SHAKE-256, XOF = SHAKE-128).
#pragma once

#include <cstddef>
#include <initializer_list>
#include <memory>

#include "util/bytes.h"

namespace bc::crypto {

using Sha3_256 = util::ByteArray<32>;
using Sha3_512 = util::ByteArray<64>;

// One-shot hashes over the concatenation of the parts.
Sha3_256 sha3_256(std::initializer_list<util::ByteView> parts);
Sha3_512 sha3_512(std::initializer_list<util::ByteView> parts);
// The first out.size() bytes of SHAKE-256 over the concatenation of the parts.
void shake256(std::initializer_list<util::ByteView> parts, util::MutableByteView out);
void shake128(std::initializer_list<util::ByteView> parts, util::MutableByteView out);

// An extendable-output function read as a stream: absorb everything first, then read as many
// bytes as needed. OpenSSL 3.0 can finalise a SHAKE context only once (EVP_DigestSqueeze came in
// 3.3), so the reader keeps the absorbed state and, when a read runs past what it has produced,
// finalises a copy of it to a longer output (doubling), of which the earlier bytes are the same.
// Rejection sampling can thus read as far as the unlucky case needs. The output is wiped when the
// reader goes away (PRF output is secret).
class Shake {
 public:
  enum class Variant { shake128, shake256 };
  // initial_output: bytes produced by the first finalisation (a read past it costs a re-run).
  explicit Shake(Variant variant, std::size_t initial_output = 168);
  ~Shake();
  Shake(const Shake&) = delete;
  Shake& operator=(const Shake&) = delete;

  // Only before the first read.
  void absorb(util::ByteView in);
  // The next out.size() bytes of the output stream.
  void read(util::MutableByteView out);
  // Total bytes read so far.
  std::size_t position() const { return position_; }

 private:
  void produce(std::size_t at_least);

  struct State;
  std::unique_ptr<State> state_;
  util::Bytes output_;
  std::size_t produced_ = 0;
  std::size_t position_ = 0;
  std::size_t initial_output_;
};

}  // namespace bc::crypto
