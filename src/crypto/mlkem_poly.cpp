#include "crypto/mlkem_poly.h"

#include <stdexcept>

#include "crypto/sha3.h"

namespace bc::crypto::mlkem {
namespace {

// Barrett constant floor(2^32 / q): for x < 2^32, x - q * ((x * kBarrett) >> 32) is in [0, 2q).
constexpr std::uint64_t kBarrett = (std::uint64_t{1} << 32) / kQ;
// Bytes of SHAKE-128 produced at first for SampleNTT: three blocks of 168, enough for almost
// every seed (a polynomial needs at least 384); the reader produces more when rejection needs it.
constexpr std::size_t kShake128Rate = 168;
constexpr std::size_t kSampleNttFirstRead = 3 * kShake128Rate;

// Subtracts q if x >= q, for x < 2q, without a branch: the borrow of x - q becomes a mask.
inline std::uint16_t reduce_once(std::uint32_t x) {
  std::uint32_t d = x - kQ;
  std::uint32_t mask = 0u - (d >> 31);  // all ones when x < q
  return static_cast<std::uint16_t>(d + (kQ & mask));
}

// x mod q for x < 2^31.
inline std::uint16_t reduce(std::uint32_t x) {
  auto t = static_cast<std::uint32_t>((static_cast<std::uint64_t>(x) * kBarrett) >> 32);
  return reduce_once(x - t * kQ);
}

// floor(x / q) for x < 2^31, without the division instruction (its time depends on the operands:
// the KyberSlash lesson).
inline std::uint32_t divide_by_q(std::uint32_t x) {
  auto t = static_cast<std::uint32_t>((static_cast<std::uint64_t>(x) * kBarrett) >> 32);
  std::uint32_t r = x - t * kQ;          // in [0, 2q)
  return t + (((kQ - 1) - r) >> 31);     // +1 when r >= q
}

inline std::uint16_t mul(std::uint32_t a, std::uint32_t b) { return reduce(a * b); }

constexpr std::uint32_t pow_zeta(unsigned e) {
  std::uint32_t r = 1;
  for (unsigned k = 0; k < e; ++k) r = (r * kZeta) % kQ;
  return r;
}

constexpr unsigned bit_rev7(unsigned i) {
  unsigned r = 0;
  for (unsigned b = 0; b < 7; ++b) r |= ((i >> b) & 1u) << (6 - b);
  return r;
}

// zeta^BitRev7(i) (Algorithms 9, 10) and zeta^(2 BitRev7(i) + 1) (Algorithm 11), computed from
// their definition at compile time: the tables of Appendix A are not copied in.
constexpr std::array<std::uint16_t, 128> kZetas = [] {
  std::array<std::uint16_t, 128> z{};
  for (unsigned i = 0; i < 128; ++i) z[i] = static_cast<std::uint16_t>(pow_zeta(bit_rev7(i)));
  return z;
}();
constexpr std::array<std::uint16_t, 128> kGammas = [] {
  std::array<std::uint16_t, 128> g{};
  for (unsigned i = 0; i < 128; ++i) g[i] = static_cast<std::uint16_t>(pow_zeta(2 * bit_rev7(i) + 1));
  return g;
}();
static_assert(kZetas[1] == 1729 && kGammas[0] == 17 && kGammas[1] == kQ - 17, "FIPS 203 Appendix A");
static_assert((128 * kNInverse) % kQ == 1);

}  // namespace

void ntt(Poly& f) {
  unsigned i = 1;
  for (std::size_t len = 128; len >= 2; len /= 2) {
    for (std::size_t start = 0; start < kN; start += 2 * len) {
      std::uint32_t zeta = kZetas[i++];
      for (std::size_t j = start; j < start + len; ++j) {
        std::uint16_t t = mul(zeta, f.c[j + len]);
        f.c[j + len] = reduce_once(f.c[j] + kQ - t);
        f.c[j] = reduce_once(f.c[j] + t);
      }
    }
  }
}

void ntt_inverse(Poly& f) {
  unsigned i = 127;
  for (std::size_t len = 2; len <= 128; len *= 2) {
    for (std::size_t start = 0; start < kN; start += 2 * len) {
      std::uint32_t zeta = kZetas[i--];
      for (std::size_t j = start; j < start + len; ++j) {
        std::uint16_t t = f.c[j];
        f.c[j] = reduce_once(t + f.c[j + len]);
        f.c[j + len] = mul(zeta, reduce_once(f.c[j + len] + kQ - t));
      }
    }
  }
  for (auto& x : f.c) x = mul(x, kNInverse);
}

Poly multiply_ntts(const Poly& f, const Poly& g) {
  Poly h;
  for (std::size_t i = 0; i < 128; ++i) {
    std::uint32_t a0 = f.c[2 * i], a1 = f.c[2 * i + 1], b0 = g.c[2 * i], b1 = g.c[2 * i + 1];
    // Algorithm 12 (BaseCaseMultiply): each product < q^2, sums < 2^31.
    h.c[2 * i] = reduce(a0 * b0 + mul(mul(a1, b1), kGammas[i]));
    h.c[2 * i + 1] = reduce(a0 * b1 + a1 * b0);
  }
  return h;
}

void add_to(Poly& acc, const Poly& g) {
  for (std::size_t k = 0; k < kN; ++k) acc.c[k] = reduce_once(std::uint32_t{acc.c[k]} + g.c[k]);
}

void subtract_from(Poly& acc, const Poly& g) {
  for (std::size_t k = 0; k < kN; ++k) acc.c[k] = reduce_once(std::uint32_t{acc.c[k]} + kQ - g.c[k]);
}

Poly sample_ntt(util::ByteView rho, std::uint8_t j, std::uint8_t i, std::size_t* xof_bytes_read) {
  if (rho.size() != kSeedSize) throw std::invalid_argument("sample_ntt: rho must be 32 bytes");
  Shake xof(Shake::Variant::shake128, kSampleNttFirstRead);
  const std::uint8_t index[2] = {j, i};
  xof.absorb(rho);
  xof.absorb(index);
  Poly a;
  std::size_t filled = 0;
  std::uint8_t block[kShake128Rate];  // read a block at a time: 56 candidate pairs
  while (filled < kN) {
    xof.read(block);
    for (std::size_t o = 0; o < sizeof block && filled < kN; o += 3) {
      const std::uint8_t* b = block + o;
      std::uint32_t d1 = b[0] + 256u * (b[1] & 0x0Fu);
      std::uint32_t d2 = (std::uint32_t{b[1]} >> 4) + 16u * b[2];
      if (d1 < kQ) a.c[filled++] = static_cast<std::uint16_t>(d1);
      if (d2 < kQ && filled < kN) a.c[filled++] = static_cast<std::uint16_t>(d2);
      if (filled == kN && xof_bytes_read != nullptr) *xof_bytes_read = xof.position() - sizeof block + o + 3;
    }
  }
  return a;
}

Poly sample_cbd(util::ByteView bytes, unsigned eta) {
  if ((eta != 2 && eta != 3) || bytes.size() != 64 * eta) throw std::invalid_argument("sample_cbd: bad eta or length");
  Poly f;
  auto bit = [&](std::size_t n) -> std::uint32_t { return (std::uint32_t{bytes[n / 8]} >> (n % 8)) & 1u; };
  for (std::size_t k = 0; k < kN; ++k) {
    std::uint32_t x = 0, y = 0;
    for (std::size_t t = 0; t < eta; ++t) {
      x += bit(2 * k * eta + t);
      y += bit(2 * k * eta + eta + t);
    }
    f.c[k] = reduce_once(x + kQ - y);
  }
  return f;
}

void compress(Poly& f, unsigned d) {
  if (d == 0 || d >= 12) throw std::invalid_argument("compress: d out of range");
  for (auto& x : f.c) {
    // round(2^d x / q) = floor((2^d x + (q - 1) / 2) / q) since q is odd.
    x = static_cast<std::uint16_t>(divide_by_q((std::uint32_t{x} << d) + (kQ - 1) / 2) & ((1u << d) - 1));
  }
}

void decompress(Poly& f, unsigned d) {
  if (d == 0 || d >= 12) throw std::invalid_argument("decompress: d out of range");
  // round(q y / 2^d) = floor((q y + 2^(d-1)) / 2^d).
  for (auto& y : f.c) y = static_cast<std::uint16_t>((std::uint32_t{y} * kQ + (1u << (d - 1))) >> d);
}

void byte_encode(const Poly& f, unsigned d, util::MutableByteView out) {
  if (d == 0 || d > 12 || out.size() != 32 * d) throw std::invalid_argument("byte_encode: bad d or length");
  // Bits go out least significant first (Algorithm 5 with BitsToBytes); an accumulator keeps
  // the pending bits, so every coefficient costs the same shifts whatever its value.
  std::uint32_t acc = 0;
  unsigned bits = 0;
  std::size_t o = 0;
  for (std::size_t k = 0; k < kN; ++k) {
    acc |= std::uint32_t{f.c[k]} << bits;
    bits += d;
    while (bits >= 8) {
      out[o++] = static_cast<std::uint8_t>(acc);
      acc >>= 8;
      bits -= 8;
    }
  }
}

Poly byte_decode(util::ByteView in, unsigned d) {
  if (d == 0 || d > 12 || in.size() != 32 * d) throw std::invalid_argument("byte_decode: bad d or length");
  Poly f;
  std::uint32_t acc = 0;
  unsigned bits = 0;
  std::size_t i = 0;
  for (std::size_t k = 0; k < kN; ++k) {
    while (bits < d) {
      acc |= std::uint32_t{in[i++]} << bits;
      bits += 8;
    }
    std::uint32_t v = acc & ((1u << d) - 1);
    acc >>= d;
    bits -= d;
    f.c[k] = d == 12 ? reduce_once(v) : static_cast<std::uint16_t>(v);  // 12-bit values are < 2q
  }
  return f;
}

bool byte_decode12_in_range(util::ByteView in) {
  if (in.size() != kPolyEncodedSize) return false;
  for (std::size_t k = 0; k < kN; k += 2) {
    const std::uint8_t* b = &in[3 * (k / 2)];
    std::uint32_t v0 = b[0] | (std::uint32_t{b[1]} & 0x0Fu) << 8;
    std::uint32_t v1 = (std::uint32_t{b[1]} >> 4) | std::uint32_t{b[2]} << 4;
    if (v0 >= kQ || v1 >= kQ) return false;
  }
  return true;
}

}  // namespace bc::crypto::mlkem
