// A party's own long-term keys: the Ed25519 identity key and the X25519 key it signs (which
// plays the signed prekey of the session start). Made by `init`; kept in the home folder.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "crypto/dh.h"
#include "crypto/sign.h"
#include "util/result.h"

namespace bc::session {

// Party names: 1 to 32 characters, lowercase letters, digits, '.', '_' and '-', starting with
// a letter or digit. They appear in invitations, logs and file names, so they stay plain.
inline constexpr std::size_t kMaxNameLength = 32;
util::Result<void> check_name(std::string_view name);

// A prekey of ours replaced by a newer one and kept for its grace period (node/prekey_ring.h):
// invitations and courier bundles made before the rotation were sealed to it.
struct OlderPrekey {
  crypto::DhKeyPair prekey;
  crypto::Signature signature{};
};

struct Identity {
  std::string name;
  crypto::SigningKey signing;
  crypto::DhKeyPair prekey;  // the current one: what invitations and HELLOs name from now on
  crypto::Signature prekey_sig{};
  std::vector<OlderPrekey> older_prekeys;  // newest first; loaded from the store, never in identity.key

  static util::Result<Identity> generate(std::string_view name);
};

// The bytes the identity key signs to vouch for its prekey.
util::Bytes prekey_signed_message(const crypto::DhPublicKey& prekey);
bool verify_prekey(const crypto::SignPublicKey& identity, const crypto::DhPublicKey& prekey,
                   const crypto::Signature& sig);

}  // namespace bc::session
