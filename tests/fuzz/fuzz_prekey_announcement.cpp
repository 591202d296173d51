// The prekey announcement parser (CONTROL key_update body, session/prekey_announcement.h).
// Input byte 0 chooses: even, the rest is a body as a peer would send it; odd, the rest patches
// a genuine announcement (pairs of offset, xor byte), so mutations reach past the signature
// check. It must never crash; what it accepts must re-encode to the same bytes and carry a
// prekey the identity signed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "session/identity.h"
#include "session/prekey_announcement.h"

namespace {

struct Fixed {
  bc::session::Identity id = bc::session::Identity::generate("fuzz").value();
  bc::util::Bytes genuine = bc::session::encode_prekey_announcement({1'800'000'000, id.prekey.public_key(), id.prekey_sig});
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Fixed fixed{};
  if (size == 0) return 0;
  bc::util::Bytes body;
  if ((data[0] & 1) == 0) {
    body.assign(data + 1, data + size);
  } else {
    body = fixed.genuine;
    for (std::size_t i = 1; i + 1 < size; i += 2) {
      const std::size_t at = data[i];
      if (at < body.size()) {
        body[at] = static_cast<std::uint8_t>(body[at] ^ data[i + 1]);
      } else if (at == 0xFF) {
        body.push_back(data[i + 1]);
      }
    }
  }
  auto a = bc::session::decode_prekey_announcement(body, fixed.id.signing.public_key());
  if (a.ok()) {
    if (bc::session::encode_prekey_announcement(*a) != body) std::abort();
    if (!bc::session::verify_prekey(fixed.id.signing.public_key(), a->prekey, a->signature)) std::abort();
  }
  return 0;
}
