// Pinned counterparts. A contact is added from an invitation (invitee side) or from an
// accepted HELLO (inviter side) and is `unverified` until an operator confirms the safety
// number by voice.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "crypto/secure_buffer.h"
#include "store/store.h"
#include "util/bytes.h"
#include "util/result.h"

namespace bc::store {

struct Contact {
  std::int64_t id = 0;
  std::string alias;       // local name the operator uses; unique in this store
  std::string party_name;  // the name the party gave itself
  util::ByteArray<32> identity_key{};
  util::ByteArray<32> prekey{};
  util::ByteArray<64> prekey_sig{};
  util::Bytes reachability;
  // Whether the invitation secret this contact was added from is still kept (invitee side,
  // until the session starts); the secret itself is read with Contacts::invite_secret.
  bool has_invite_secret = false;
  std::optional<std::int64_t> invite_expires_at;
  bool verified = false;
  std::optional<std::int64_t> verified_at;
  std::int64_t added_at = 0;
  // Invitee side, from a version 3 invitation: the inviter's ML-KEM key and the hash its signed
  // invitation commits to, for the hybrid HELLO. Empty / none: a version 2 invitation.
  util::Bytes inviter_kem_key;
  std::optional<util::ByteArray<32>> inviter_kem_key_hash;
  // The session started post-quantum hybrid (set with the session; false for classical starts).
  bool post_quantum = false;
};

// Small key/value settings the node keeps across restarts.
std::optional<std::string> get_setting(Store& store, std::string_view key);
void set_setting(Store& store, std::string_view key, std::string_view value);

class Contacts {
 public:
  explicit Contacts(Store& store) : store_(store) {}

  // Refuses (already_exists) a second contact with the same alias or the same identity key.
  // invite_secret (invitee side; empty: none) is sealed under the storage key, bound to the new
  // contact's id; contact.has_invite_secret is ignored.
  util::Result<std::int64_t> add(const Contact& contact, util::ByteView invite_secret = {});
  std::vector<Contact> list();
  std::optional<Contact> find(std::string_view alias);
  // name itself when no contact has it, else the first free "name-2", "name-3", ...: the alias
  // a contact pinned from a HELLO gets (the operator may rename it later).
  std::string free_alias(const std::string& name);
  std::optional<Contact> find_by_identity(util::ByteView identity_key);
  util::Result<void> mark_verified(std::string_view alias, std::int64_t now);
  // The contact told us (CONTROL frame) how to reach it now.
  void set_reachability(std::int64_t id, util::ByteView reachability);
  // The contact announced a new signed prekey (CONTROL key_update), made at issued_at by its
  // clock: kept only when newer than the one we hold, so a late or repeated announcement never
  // brings an older key back. True when it replaced ours.
  bool set_announced_prekey(std::int64_t id, util::ByteView prekey, util::ByteView signature, std::int64_t issued_at);
  // When the contact's prekey we hold was made (0: the one of its invitation or HELLO).
  std::int64_t prekey_issued_at(std::int64_t id);
  util::Result<void> remove(std::string_view alias);
  // The invitation secret, opened into guarded memory; nullopt once cleared. Throws StoreError
  // when it does not open (another home's key, or a value moved from another row).
  std::optional<crypto::SecureBuffer> invite_secret(std::int64_t id);
  // The invitee's session started: the invitation secret is not needed any more.
  void clear_invite_secret(std::int64_t id);
  // Records how the contact's session started (in the transaction that stores the session).
  void set_post_quantum(std::int64_t id, bool post_quantum);

 private:
  Store& store_;
};

}  // namespace bc::store
