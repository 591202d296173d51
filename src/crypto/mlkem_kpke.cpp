#include "crypto/mlkem_kpke.h"

#include <stdexcept>

#include "crypto/mlkem_ct.h"
#include "crypto/secure_buffer.h"
#include "crypto/sha3.h"

namespace bc::crypto::mlkem {
namespace {

// A secret temporary (noise, secret vector, message polynomial) wiped on every path out of the
// function, exceptions included.
template <class T>
struct Scrubbed {
  T v{};
  Scrubbed() = default;
  Scrubbed(const Scrubbed&) = delete;
  Scrubbed& operator=(const Scrubbed&) = delete;
  ~Scrubbed() { wipe({reinterpret_cast<std::uint8_t*>(&v), sizeof v}); }
};

void need(bool ok, const char* what) {
  if (!ok) throw std::invalid_argument(what);
}

void ntt_all(PolyVec& v) {
  for (auto& p : v) ntt(p);
}

// Row i of m times v, in NTT form.
Poly dot(const PolyVec& row, const PolyVec& v) {
  Poly acc;
  for (std::size_t j = 0; j < kK; ++j) add_to(acc, multiply_ntts(row[j], v[j]));
  return acc;
}

void encode_vector(const PolyVec& v, unsigned d, util::MutableByteView out) {
  for (std::size_t i = 0; i < kK; ++i) byte_encode(v[i], d, out.subspan(i * 32 * d, 32 * d));
}

PolyVec decode_vector(util::ByteView in, unsigned d) {
  PolyVec v;
  for (std::size_t i = 0; i < kK; ++i) v[i] = byte_decode(in.subspan(i * 32 * d, 32 * d), d);
  return v;
}

}  // namespace

PolyMatrix generate_matrix(util::ByteView rho) {
  PolyMatrix a;
  for (std::size_t i = 0; i < kK; ++i) {
    for (std::size_t j = 0; j < kK; ++j) {
      a[i][j] = sample_ntt(rho, static_cast<std::uint8_t>(j), static_cast<std::uint8_t>(i));
    }
  }
  return a;
}

Poly sample_noise(util::ByteView seed, std::uint8_t n, unsigned eta) {
  need(seed.size() == kSeedSize, "sample_noise: seed must be 32 bytes");
  SecretArray<64 * 3> prf;  // room for eta = 3
  auto out = prf.mutable_view().first(64 * eta);
  const std::uint8_t nb[1] = {n};
  shake256({seed, nb}, out);
  return sample_cbd(out, eta);
}

void kpke_keygen(util::ByteView d, util::MutableByteView ek_pke, util::MutableByteView dk_pke, KeyGenSeed seed) {
  need(d.size() == kSeedSize && ek_pke.size() == kEncapsulationKeySize && dk_pke.size() == kPkeSecretKeySize,
       "kpke_keygen: bad lengths");
  // (rho, sigma) = G(d || k): the final FIPS 203 appends k for domain separation; the draft
  // hashed d alone.
  const std::uint8_t k[1] = {static_cast<std::uint8_t>(kK)};
  SecretArray<64> g;
  auto digest = seed == KeyGenSeed::fips203 ? sha3_512({d, k}) : sha3_512({d});
  std::copy(digest.begin(), digest.end(), g.data());
  wipe(digest);
  util::ByteView rho = g.view().first(32);
  util::ByteView sigma = g.view().subspan(32, 32);
  declassify(rho);  // public: it is the end of ek

  PolyMatrix a = generate_matrix(rho);
  std::uint8_t n = 0;
  Scrubbed<PolyVec> s, e;
  for (auto& p : s.v) p = sample_noise(sigma, n++, kEta1);
  for (auto& p : e.v) p = sample_noise(sigma, n++, kEta1);
  ntt_all(s.v);
  ntt_all(e.v);
  PolyVec t;
  for (std::size_t i = 0; i < kK; ++i) {
    t[i] = dot(a[i], s.v);
    add_to(t[i], e.v[i]);
  }
  encode_vector(t, 12, ek_pke.first(kPkeSecretKeySize));
  std::copy(rho.begin(), rho.end(), ek_pke.begin() + kPkeSecretKeySize);
  encode_vector(s.v, 12, dk_pke);
}

void kpke_encrypt(util::ByteView ek_pke, util::ByteView m, util::ByteView r, util::MutableByteView c) {
  need(ek_pke.size() == kEncapsulationKeySize && m.size() == kSeedSize && r.size() == kSeedSize &&
           c.size() == kCiphertextSize,
       "kpke_encrypt: bad lengths");
  PolyVec t = decode_vector(ek_pke.first(kPkeSecretKeySize), 12);
  PolyMatrix a = generate_matrix(ek_pke.subspan(kPkeSecretKeySize, 32));
  std::uint8_t n = 0;
  Scrubbed<PolyVec> y, e1, u;
  Scrubbed<Poly> e2, mu, v;
  for (auto& p : y.v) p = sample_noise(r, n++, kEta1);
  for (auto& p : e1.v) p = sample_noise(r, n++, kEta2);
  e2.v = sample_noise(r, n, kEta2);
  ntt_all(y.v);
  // u = NTT^-1(Â^T ŷ) + e1: column i of Â.
  for (std::size_t i = 0; i < kK; ++i) {
    Poly acc;
    for (std::size_t j = 0; j < kK; ++j) add_to(acc, multiply_ntts(a[j][i], y.v[j]));
    ntt_inverse(acc);
    add_to(acc, e1.v[i]);
    u.v[i] = acc;
    wipe({reinterpret_cast<std::uint8_t*>(&acc), sizeof acc});
  }
  mu.v = byte_decode(m, 1);
  decompress(mu.v, 1);
  v.v = dot(t, y.v);
  ntt_inverse(v.v);
  add_to(v.v, e2.v);
  add_to(v.v, mu.v);
  for (auto& p : u.v) compress(p, kDu);
  compress(v.v, kDv);
  encode_vector(u.v, kDu, c.first(kCiphertextU));
  byte_encode(v.v, kDv, c.subspan(kCiphertextU));
}

void kpke_decrypt(util::ByteView dk_pke, util::ByteView c, util::MutableByteView m) {
  need(dk_pke.size() == kPkeSecretKeySize && c.size() == kCiphertextSize && m.size() == kSeedSize,
       "kpke_decrypt: bad lengths");
  PolyVec u = decode_vector(c.first(kCiphertextU), kDu);
  for (auto& p : u) {
    decompress(p, kDu);
    ntt(p);
  }
  Poly v = byte_decode(c.subspan(kCiphertextU), kDv);
  decompress(v, kDv);
  Scrubbed<PolyVec> s;
  s.v = decode_vector(dk_pke, 12);
  Scrubbed<Poly> w;
  w.v = dot(s.v, u);
  ntt_inverse(w.v);
  Poly diff = v;
  subtract_from(diff, w.v);
  w.v = diff;
  wipe({reinterpret_cast<std::uint8_t*>(&diff), sizeof diff});
  compress(w.v, 1);
  byte_encode(w.v, 1, m);
}

}  // namespace bc::crypto::mlkem
