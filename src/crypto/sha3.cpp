#include "crypto/sha3.h"

#include <openssl/evp.h>

#include <algorithm>
#include <stdexcept>

#include "crypto/secure_buffer.h"

namespace bc::crypto {
namespace {

// Fetched once per process: an implicit fetch on every EVP_DigestInit_ex costs a lookup in
// OpenSSL 3.0's provider store, which would dominate ML-KEM (dozens of hash calls per operation).
// The fetched algorithm is immutable and shared safely between threads.
const EVP_MD* fetch(const char* name) {
  EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  if (md == nullptr) throw std::runtime_error(std::string("OpenSSL has no ") + name);
  return md;
}

const EVP_MD* md_sha3_256() {
  static const EVP_MD* md = fetch("SHA3-256");
  return md;
}
const EVP_MD* md_sha3_512() {
  static const EVP_MD* md = fetch("SHA3-512");
  return md;
}
const EVP_MD* md_shake128() {
  static const EVP_MD* md = fetch("SHAKE128");
  return md;
}
const EVP_MD* md_shake256() {
  static const EVP_MD* md = fetch("SHAKE256");
  return md;
}

struct CtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }  // cleanses the Keccak state
};
using Ctx = std::unique_ptr<EVP_MD_CTX, CtxFree>;

Ctx start(const EVP_MD* md, std::initializer_list<util::ByteView> parts) {
  Ctx ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) throw std::runtime_error("EVP_DigestInit_ex failed");
  for (auto p : parts) {
    if (!p.empty() && EVP_DigestUpdate(ctx.get(), p.data(), p.size()) != 1) {
      throw std::runtime_error("EVP_DigestUpdate failed");
    }
  }
  return ctx;
}

template <std::size_t N>
util::ByteArray<N> fixed(const EVP_MD* md, std::initializer_list<util::ByteView> parts) {
  Ctx ctx = start(md, parts);
  util::ByteArray<N> out{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1 || len != N) {
    throw std::runtime_error("EVP_DigestFinal_ex failed");
  }
  return out;
}

void xof(const EVP_MD* md, std::initializer_list<util::ByteView> parts, util::MutableByteView out) {
  Ctx ctx = start(md, parts);
  if (!out.empty() && EVP_DigestFinalXOF(ctx.get(), out.data(), out.size()) != 1) {
    throw std::runtime_error("EVP_DigestFinalXOF failed");
  }
}

}  // namespace

Sha3_256 sha3_256(std::initializer_list<util::ByteView> parts) { return fixed<32>(md_sha3_256(), parts); }
Sha3_512 sha3_512(std::initializer_list<util::ByteView> parts) { return fixed<64>(md_sha3_512(), parts); }
void shake256(std::initializer_list<util::ByteView> parts, util::MutableByteView out) { xof(md_shake256(), parts, out); }
void shake128(std::initializer_list<util::ByteView> parts, util::MutableByteView out) { xof(md_shake128(), parts, out); }

struct Shake::State {
  Ctx absorbed;
};

Shake::Shake(Variant variant, std::size_t initial_output)
    : state_(std::make_unique<State>()), initial_output_(std::max<std::size_t>(initial_output, 1)) {
  state_->absorbed = start(variant == Variant::shake128 ? md_shake128() : md_shake256(), {});
}

Shake::~Shake() { wipe(output_); }

void Shake::absorb(util::ByteView in) {
  if (produced_ != 0) throw std::logic_error("Shake::absorb after the first read");
  if (!in.empty() && EVP_DigestUpdate(state_->absorbed.get(), in.data(), in.size()) != 1) {
    throw std::runtime_error("EVP_DigestUpdate failed");
  }
}

void Shake::produce(std::size_t at_least) {
  std::size_t want = std::max({at_least, initial_output_, produced_ * 2});
  Ctx copy(EVP_MD_CTX_new());
  if (!copy || EVP_MD_CTX_copy_ex(copy.get(), state_->absorbed.get()) != 1) {
    throw std::runtime_error("EVP_MD_CTX_copy_ex failed");
  }
  util::Bytes longer(want);
  if (EVP_DigestFinalXOF(copy.get(), longer.data(), want) != 1) throw std::runtime_error("EVP_DigestFinalXOF failed");
  wipe(output_);
  output_ = std::move(longer);
  produced_ = want;
}

void Shake::read(util::MutableByteView out) {
  if (position_ + out.size() > produced_) produce(position_ + out.size());
  std::copy_n(output_.begin() + static_cast<std::ptrdiff_t>(position_), out.size(), out.begin());
  position_ += out.size();
}

}  // namespace bc::crypto
