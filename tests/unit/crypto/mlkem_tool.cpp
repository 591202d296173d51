// Line protocol over stdin/stdout to our ML-KEM-768, for the differential test
// tests/unit/crypto/mlkem_differential.py (tools/noble/mlkem768.mjs speaks the same protocol):
//   keygen <d> <z>      -> <ek> <dk>
//   encaps <ek> [<m>]   -> <ct> <K>      (m from the system generator when absent)
//   decaps <dk> <ct>    -> <K>
// A refused input answers "refused"; a line that does not parse ends the tool with status 2.
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "crypto/mlkem.h"
#include "util/hex.h"

namespace {

using namespace bc;

[[noreturn]] void die(const std::string& why) {
  std::cerr << "mlkem_tool: " << why << "\n";
  std::exit(2);
}

util::Bytes unhex(const std::string& s) {
  auto r = util::hex_decode(s);
  if (!r.ok()) die("bad hex: " + s.substr(0, 16));
  return *r;
}

std::string answer(const std::vector<std::string>& w) {
  using namespace crypto::mlkem;
  if (w[0] == "keygen" && w.size() == 3) {
    util::Bytes d = unhex(w[1]), z = unhex(w[2]);
    if (d.size() != kSeedSize || z.size() != kSeedSize) die("keygen: d and z are 32 bytes");
    KeyPair kp = keygen_internal(d, z);
    return util::hex_encode(kp.ek) + " " + util::hex_encode(kp.dk.view());
  }
  if (w[0] == "encaps" && (w.size() == 2 || w.size() == 3)) {
    util::Bytes ek = unhex(w[1]);
    util::Result<Encapsulation> r = w.size() == 3 ? encaps_internal(ek, unhex(w[2])) : encaps(ek);
    if (!r.ok()) return "refused";
    return util::hex_encode(r->ciphertext) + " " + util::hex_encode(r->shared_secret.view());
  }
  if (w[0] == "decaps" && w.size() == 3) {
    auto r = decaps(unhex(w[1]), unhex(w[2]));
    if (!r.ok()) return "refused";
    return util::hex_encode(r->view());
  }
  die("cannot parse a line starting " + w[0]);
}

}  // namespace

int main() {
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::vector<std::string> words;
    for (std::string w; in >> w;) words.push_back(w);
    if (words.empty()) continue;
    std::cout << answer(words) << "\n";
  }
  return 0;
}
