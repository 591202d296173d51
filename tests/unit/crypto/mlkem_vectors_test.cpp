// ML-KEM-768 against the C2SP vectors copied into tests/vectors/ml-kem/ (see SOURCE.md there):
// every intermediate value of one run, every modulus-check refusal, the unlucky-sampling and
// strcmp cases, and the accumulated hash over 10,000 generated tests (1,000,000 with
// BC_MLKEM_FULL=1).
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "crypto/mlkem.h"
#include "crypto/mlkem_kpke.h"
#include "crypto/mlkem_poly.h"
#include "crypto/sha3.h"
#include "unit/crypto/mlkem_accumulated.h"
#include "util/hex.h"

namespace bc::crypto::mlkem {
namespace {

const std::string kDir = std::string(BC_TEST_VECTORS_DIR) + "/ml-kem/";

util::Bytes unhex(const std::string& s) {
  auto r = util::hex_decode(s);
  if (!r.ok()) throw std::runtime_error("bad hex in vector file: " + s.substr(0, 40));
  return *r;
}

std::string hex(util::ByteView b) { return util::hex_encode(b); }

// "name = value" lines in file order (names repeat: the intermediate file has two "r" and two
// "dkPKE"); blank lines separate records. A polynomial also given as a list,
// "name = {c0, c1, ...} = hex", becomes two entries: "name list" and "name"; "dkPKE = NTT(s) =
// hex" becomes "dkPKE".
using Record = std::vector<std::pair<std::string, std::string>>;

std::vector<Record> read_records(const std::string& file) {
  std::ifstream in(kDir + file);
  if (!in) throw std::runtime_error("cannot open " + kDir + file);
  std::vector<Record> out(1);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) {
      if (!out.back().empty()) out.emplace_back();
      continue;
    }
    std::string name = line.substr(0, line.find(" = "));
    std::string rest = line.substr(name.size() + 3);
    if (!rest.empty() && rest[0] == '{') out.back().emplace_back(name + " list", rest.substr(0, rest.find('}') + 1));
    out.back().emplace_back(name, rest.substr(rest.rfind(" = ") == std::string::npos ? 0 : rest.rfind(" = ") + 3));
  }
  if (out.back().empty()) out.pop_back();
  return out;
}

// The n-th (0-based) value called name in a record.
const std::string& get(const Record& r, const std::string& name, int n = 0) {
  for (const auto& [k, v] : r) {
    if (k == name && n-- == 0) return v;
  }
  throw std::runtime_error("vector has no " + name);
}

// "{1, 2, 3}" as a polynomial.
Poly parse_list(const std::string& s) {
  std::string body = s.substr(1, s.size() - 2);
  std::replace(body.begin(), body.end(), ',', ' ');
  std::istringstream in(body);
  Poly p;
  std::size_t k = 0;
  unsigned v = 0;
  while (in >> v) {
    if (k >= kN) throw std::runtime_error("list longer than 256");
    p.c[k++] = static_cast<std::uint16_t>(v);
  }
  if (k != kN) throw std::runtime_error("list shorter than 256");
  return p;
}

std::string enc12(const Poly& p) {
  util::ByteArray<kPolyEncodedSize> b{};
  byte_encode(p, 12, b);
  return hex(b);
}

std::string enc12(const PolyVec& v) {
  std::string s;
  for (const auto& p : v) s += enc12(p);
  return s;
}

TEST(MlKemVectors, EveryIntermediateValue) {
  auto records = read_records("intermediate-ML-KEM-768.txt");
  ASSERT_EQ(records.size(), 1u);
  const Record& r = records[0];

  // KeyGen: (rho, sigma) = G(d), as in the draft these vectors target (SOURCE.md); FIPS 203 hashes
  // d || k, which the differential test against @noble/post-quantum covers.
  util::Bytes d = unhex(get(r, "d"));
  auto g = sha3_512({d});
  util::ByteView rho(g.data(), 32), sigma(g.data() + 32, 32);
  EXPECT_EQ(hex(rho), get(r, "ρ"));
  EXPECT_EQ(hex(sigma), get(r, "σ"));

  PolyMatrix a = generate_matrix(rho);
  EXPECT_EQ(a[0][0].c, parse_list(get(r, "A[0, 0] list")).c);
  EXPECT_EQ(enc12(a[0][0]), get(r, "A[0, 0]"));
  std::string a_hex, at_hex;
  for (std::size_t i = 0; i < kK; ++i) {
    for (std::size_t j = 0; j < kK; ++j) {
      a_hex += enc12(a[i][j]);
      at_hex += enc12(a[j][i]);
    }
  }
  EXPECT_EQ(a_hex, get(r, "A"));

  PolyVec s, e;
  for (std::uint8_t n = 0; n < 3; ++n) s[n] = sample_noise(sigma, n, kEta1);
  for (std::uint8_t n = 0; n < 3; ++n) e[n] = sample_noise(sigma, static_cast<std::uint8_t>(3 + n), kEta1);
  EXPECT_EQ(s[0].c, parse_list(get(r, "s[0] list")).c);
  EXPECT_EQ(enc12(s[0]), get(r, "s[0]"));
  EXPECT_EQ(enc12(s), get(r, "s"));
  EXPECT_EQ(enc12(e), get(r, "e"));
  for (auto& p : s) ntt(p);
  for (auto& p : e) ntt(p);
  EXPECT_EQ(s[0].c, parse_list(get(r, "NTT(s[0]) list")).c);
  EXPECT_EQ(enc12(s[0]), get(r, "NTT(s[0])"));
  EXPECT_EQ(enc12(s), get(r, "dkPKE", 0));  // written "dkPKE = NTT(s) = ..."
  EXPECT_EQ(enc12(e), get(r, "NTT(e)"));
  PolyVec t;
  for (std::size_t i = 0; i < kK; ++i) {
    for (std::size_t j = 0; j < kK; ++j) add_to(t[i], multiply_ntts(a[i][j], s[j]));
    add_to(t[i], e[i]);
  }
  EXPECT_EQ(enc12(t), get(r, "t"));

  util::ByteArray<kEncapsulationKeySize> ek_pke{};
  util::ByteArray<kPkeSecretKeySize> dk_pke{};
  kpke_keygen(d, ek_pke, dk_pke, KeyGenSeed::ipd_draft);
  EXPECT_EQ(hex(ek_pke), get(r, "ek"));
  // The file's second "dkPKE" line holds the same bytes as ek (K-PKE's encryption key).
  EXPECT_EQ(hex(ek_pke), get(r, "dkPKE", 1));
  EXPECT_EQ(hex(dk_pke), get(r, "dkPKE", 0));

  util::Bytes z = unhex(get(r, "z"));
  KeyPair kp = keygen_internal_draft(d, z);
  EXPECT_EQ(hex(kp.ek), get(r, "ek"));
  EXPECT_EQ(hex(sha3_256({kp.ek})), get(r, "H(ek)"));
  EXPECT_EQ(hex(kp.dk.view()), get(r, "dk"));

  // Encaps: (K, r) = G(m || H(ek)).
  util::Bytes m = unhex(get(r, "m"));
  auto h = sha3_256({kp.ek});
  auto kr = sha3_512({m, h});
  util::ByteView key(kr.data(), 32), rand(kr.data() + 32, 32);
  EXPECT_EQ(hex(key), get(r, "K"));
  EXPECT_EQ(hex(rand), get(r, "r", 0));

  // K-PKE.Encrypt step by step.
  Poly mu = byte_decode(m, 1);
  decompress(mu, 1);
  EXPECT_EQ(enc12(mu), get(r, "μ"));
  EXPECT_EQ(at_hex, get(r, "A^T"));
  PolyVec y, e1;
  for (std::uint8_t n = 0; n < 3; ++n) y[n] = sample_noise(rand, n, kEta1);
  for (std::uint8_t n = 0; n < 3; ++n) e1[n] = sample_noise(rand, static_cast<std::uint8_t>(3 + n), kEta2);
  Poly e2 = sample_noise(rand, 6, kEta2);
  EXPECT_EQ(enc12(y), get(r, "r", 1));
  EXPECT_EQ(enc12(e1), get(r, "e1"));
  EXPECT_EQ(enc12(e2), get(r, "e2"));
  for (auto& p : y) ntt(p);
  EXPECT_EQ(enc12(y), get(r, "NTT(r)"));
  PolyVec u;
  for (std::size_t i = 0; i < kK; ++i) {
    for (std::size_t j = 0; j < kK; ++j) add_to(u[i], multiply_ntts(a[j][i], y[j]));
    ntt_inverse(u[i]);
    add_to(u[i], e1[i]);
  }
  EXPECT_EQ(enc12(u), get(r, "u"));
  EXPECT_EQ(u[0].c, parse_list(get(r, "u[0] list")).c);
  Poly v;
  for (std::size_t j = 0; j < kK; ++j) add_to(v, multiply_ntts(t[j], y[j]));
  ntt_inverse(v);
  add_to(v, e2);
  add_to(v, mu);
  EXPECT_EQ(v.c, parse_list(get(r, "v list")).c);
  EXPECT_EQ(enc12(v), get(r, "v"));
  std::string c1;
  for (auto& p : u) {
    compress(p, kDu);
    util::ByteArray<32 * kDu> b{};
    byte_encode(p, kDu, b);
    c1 += hex(b);
  }
  EXPECT_EQ(u[0].c, parse_list(get(r, "compress(u[0]) list")).c);
  EXPECT_EQ(c1, get(r, "c1"));
  compress(v, kDv);
  EXPECT_EQ(v.c, parse_list(get(r, "compress(v) list")).c);
  util::ByteArray<32 * kDv> c2{};
  byte_encode(v, kDv, c2);
  EXPECT_EQ(hex(c2), get(r, "c2"));

  auto enc = encaps_internal(kp.ek, m);
  ASSERT_TRUE(enc.ok()) << enc.error().message;
  EXPECT_EQ(hex(enc->ciphertext), get(r, "c"));
  EXPECT_EQ(hex(enc->shared_secret.view()), get(r, "K"));

  // K-PKE.Decrypt step by step.
  util::Bytes c = unhex(get(r, "c"));
  PolyVec ud;
  for (std::size_t i = 0; i < kK; ++i) {
    ud[i] = byte_decode(util::ByteView(c).subspan(i * 32 * kDu, 32 * kDu), kDu);
    decompress(ud[i], kDu);
  }
  EXPECT_EQ(enc12(ud), get(r, "uᵈ"));
  for (auto& p : ud) ntt(p);
  EXPECT_EQ(enc12(ud), get(r, "NTT(uᵈ)"));
  Poly vd = byte_decode(util::ByteView(c).subspan(kCiphertextU), kDv);
  decompress(vd, kDv);
  EXPECT_EQ(enc12(vd), get(r, "vᵈ"));
  Poly sw;
  for (std::size_t j = 0; j < kK; ++j) add_to(sw, multiply_ntts(s[j], ud[j]));
  ntt_inverse(sw);
  Poly w = vd;
  subtract_from(w, sw);
  EXPECT_EQ(enc12(w), get(r, "w"));
  util::ByteArray<32> m_again{};
  kpke_decrypt(dk_pke, c, m_again);
  EXPECT_EQ(hex(m_again), get(r, "m"));

  util::ByteArray<32> kbar{};
  shake256({z, c}, kbar);
  EXPECT_EQ(hex(kbar), get(r, "KBar"));
  auto dec = decaps(kp.dk.view(), c);
  ASSERT_TRUE(dec.ok()) << dec.error().message;
  EXPECT_EQ(hex(dec->view()), get(r, "K"));
}

std::vector<std::string> gunzip_lines(const std::string& file) {
  gzFile f = gzopen((kDir + file).c_str(), "rb");
  if (f == nullptr) throw std::runtime_error("cannot open " + kDir + file);
  std::string all;
  char buf[65536];
  int n = 0;
  while ((n = gzread(f, buf, sizeof buf)) > 0) all.append(buf, static_cast<std::size_t>(n));
  gzclose(f);
  if (n < 0) throw std::runtime_error("bad gzip data in " + file);
  std::vector<std::string> lines;
  std::istringstream in(all);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

TEST(MlKemVectors, EncapsRefusesEveryKeyOfTheModulusFile) {
  auto lines = gunzip_lines("modulus-ML-KEM-768.txt.gz");
  ASSERT_GT(lines.size(), 700u);  // the file holds 780
  for (const auto& line : lines) {
    util::Bytes ek = unhex(line);
    ASSERT_EQ(ek.size(), kEncapsulationKeySize);  // refused for the coefficient, not the length
    auto check = check_encapsulation_key(ek);
    ASSERT_FALSE(check.ok()) << line.substr(0, 32);
    EXPECT_NE(check.error().message.find("modulus check"), std::string::npos);
    auto enc = encaps(ek);
    ASSERT_FALSE(enc.ok()) << line.substr(0, 32);
    EXPECT_EQ(enc.error().code, util::Errc::bad_format);
  }
}

TEST(MlKemVectors, UnluckySampling) {
  auto records = read_records("unluckysample-ML-KEM-768.txt");
  ASSERT_FALSE(records.empty());
  for (const auto& r : records) {
    KeyPair kp = keygen_internal_draft(unhex(get(r, "d")), unhex(get(r, "z")));
    EXPECT_EQ(hex(kp.ek), get(r, "ek"));
    EXPECT_EQ(hex(kp.dk.view()), get(r, "dk"));
    // The point of these keys: some matrix entry needs more than 575 bytes of SHAKE-128, past
    // the reader's first output, so the on-demand path is what produced the right key above.
    util::ByteView rho = util::ByteView(kp.ek).subspan(kPkeSecretKeySize);
    std::size_t most = 0;
    for (std::uint8_t i = 0; i < kK; ++i) {
      for (std::uint8_t j = 0; j < kK; ++j) {
        std::size_t used = 0;
        (void)sample_ntt(rho, j, i, &used);
        most = std::max(most, used);
      }
    }
    EXPECT_GT(most, 575u);
    auto enc = encaps_internal(kp.ek, unhex(get(r, "m")));
    ASSERT_TRUE(enc.ok());
    EXPECT_EQ(hex(enc->ciphertext), get(r, "c"));
    EXPECT_EQ(hex(enc->shared_secret.view()), get(r, "K"));
    auto dec = decaps(kp.dk.view(), enc->ciphertext);
    ASSERT_TRUE(dec.ok());
    EXPECT_EQ(hex(dec->view()), get(r, "K"));
  }
}

TEST(MlKemVectors, StrcmpCases) {
  auto records = read_records("strcmp-ML-KEM-768.txt");
  ASSERT_FALSE(records.empty());
  for (const auto& r : records) {
    auto dec = decaps(unhex(get(r, "dk")), unhex(get(r, "c")));
    ASSERT_TRUE(dec.ok()) << dec.error().message;
    EXPECT_EQ(hex(dec->view()), get(r, "K"));
  }
}

TEST(MlKemVectors, Accumulated10000) {
  EXPECT_EQ(testing::accumulated_hash(10000), "f7db260e1137a742e05fe0db9525012812b004d29040a5b606aad3d134b548d3");
}

// Minutes under the sanitizers: run with BC_MLKEM_FULL=1 (scripts/test --slow sets it).
TEST(MlKemVectors, Accumulated1000000) {
  const char* full = std::getenv("BC_MLKEM_FULL");
  if (full == nullptr || std::string(full) != "1") GTEST_SKIP() << "set BC_MLKEM_FULL=1 to run the 1,000,000-test hash";
  EXPECT_EQ(testing::accumulated_hash(1000000), "70090cc5842aad0ec43d5042c783fae9bc320c047b5dafcb6e134821db02384d");
}

}  // namespace
}  // namespace bc::crypto::mlkem
