// Invitations this node issued. Each carries a one-time secret; the store keeps it so a HELLO
// can be accepted, and refuses a second use, an expired one, or a revoked one. The secret of a
// used invitation is forgotten at once (it salts the session's first keys); that of a revoked or
// expired one is kept for a while, so that a HELLO sent for it can be opened and answered with a
// refusal (docs/protocol.md "HELLO refusal"), then forgotten (forget_refusal_secrets).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "crypto/secure_buffer.h"
#include "store/store.h"
#include "util/bytes.h"
#include "util/result.h"

namespace bc::store {

struct IssuedInvitation {
  std::string id;
  util::Bytes secret_hash;
  bool has_secret = false;  // false once used or revoked; the secret: Invitations::open_secrets_at
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;
  std::optional<std::int64_t> used_at;
  std::optional<std::int64_t> revoked_at;
  // The hash of our ML-KEM key a version 3 invitation committed to; none: version 2 (classical).
  std::optional<util::ByteArray<32>> kem_key_hash;

  // "open", "used", "revoked" or "expired" at time now.
  std::string state(std::int64_t now) const;
};

class Invitations {
 public:
  explicit Invitations(Store& store) : store_(store) {}

  // secret (32 bytes) is sealed under the storage key, bound to inv.id; inv.has_secret is ignored.
  util::Result<void> record(const IssuedInvitation& inv, util::ByteView secret);
  std::vector<IssuedInvitation> list();
  std::optional<IssuedInvitation> find(std::string_view id);
  // Invitations whose HELLO may still be accepted at time now.
  std::vector<IssuedInvitation> open_at(std::int64_t now);
  // Their ids and secrets, opened into guarded memory (StoreError when one does not open).
  struct OpenSecret {
    std::string id;
    crypto::SecureBuffer secret;
    std::optional<util::ByteArray<32>> kem_key_hash;  // as in IssuedInvitation
  };
  std::vector<OpenSecret> open_secrets_at(std::int64_t now);
  // Invitations revoked or expired, not used, whose secret is still kept: a HELLO for them is
  // answered with a refusal. Those revoked or expired before since are left out.
  struct RefusableSecret {
    std::string id;
    crypto::SecureBuffer secret;
    bool revoked = false;  // else expired
    std::optional<util::ByteArray<32>> kem_key_hash;  // as in IssuedInvitation
  };
  std::vector<RefusableSecret> refusable_secrets_at(std::int64_t now, std::int64_t since);
  // Forgets the secrets of invitations revoked or expired before since.
  void forget_refusal_secrets(std::int64_t since);
  // Keeps the secret until forget_refusal_secrets() (see above).
  util::Result<void> revoke(std::string_view id, std::int64_t now);
  // Marks the invitation used by contact_id and forgets its secret. Must run in the same
  // transaction that pins the contact, so an invitation admits exactly one party.
  util::Result<void> consume(std::string_view id, std::int64_t contact_id, std::int64_t now);

 private:
  Store& store_;
};

}  // namespace bc::store
