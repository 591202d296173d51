#include "session/identity.h"

namespace bc::session {
namespace {

constexpr std::string_view kPrekeyLabel = "backchannel prekey v1";
constexpr std::string_view kKemKeyLabel = "backchannel kem key v1";

bool name_char(char c, bool first) {
  if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  return !first && (c == '.' || c == '_' || c == '-');
}

}  // namespace

util::Result<void> check_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) {
    return util::make_error(util::Errc::invalid_argument,
                            "a name has 1 to " + std::to_string(kMaxNameLength) + " characters");
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!name_char(name[i], i == 0)) {
      return util::make_error(util::Errc::invalid_argument,
                              "name '" + std::string(name) +
                                  "' may hold only a-z, 0-9, '.', '_' and '-', and must start with a letter or digit");
    }
  }
  return {};
}

util::Bytes prekey_signed_message(const crypto::DhPublicKey& prekey) {
  util::Bytes msg(kPrekeyLabel.begin(), kPrekeyLabel.end());
  util::append(msg, prekey);
  return msg;
}

bool verify_prekey(const crypto::SignPublicKey& identity, const crypto::DhPublicKey& prekey,
                   const crypto::Signature& sig) {
  return crypto::verify(identity, prekey_signed_message(prekey), sig);
}

util::Bytes kem_key_signed_message(util::ByteView encapsulation_key) {
  util::Bytes msg(kKemKeyLabel.begin(), kKemKeyLabel.end());
  util::append(msg, encapsulation_key);
  return msg;
}

bool verify_kem_key(const crypto::SignPublicKey& identity, util::ByteView encapsulation_key,
                    const crypto::Signature& sig) {
  return crypto::verify(identity, kem_key_signed_message(encapsulation_key), sig);
}

KemKeyHash kem_key_hash(util::ByteView encapsulation_key) { return crypto::sha3_256({encapsulation_key}); }

KemKey KemKey::generate(const crypto::SigningKey& identity) {
  KemKey k{crypto::mlkem::keygen(), {}};
  k.signature = identity.sign(kem_key_signed_message(k.pair.ek));
  return k;
}

util::Result<Identity> Identity::generate(std::string_view name) {
  BC_TRY_VOID(check_name(name));
  auto signing = crypto::SigningKey::generate();
  auto prekey = crypto::DhKeyPair::generate();
  auto sig = signing.sign(prekey_signed_message(prekey.public_key()));
  auto kem = KemKey::generate(signing);
  return Identity{std::string(name), std::move(signing), std::move(prekey), sig, {}, std::move(kem)};
}

}  // namespace bc::session
