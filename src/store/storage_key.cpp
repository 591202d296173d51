#include "store/storage_key.h"

#include <algorithm>

#include "crypto/aead.h"
#include "crypto/kdf.h"
#include "crypto/random.h"

namespace bc::store {
namespace {

constexpr std::size_t kSeedSize = 32;
constexpr std::size_t kEd25519SecretSize = 64;

util::Bytes associated_data(std::string_view column, std::string_view row) {
  util::Bytes ad;
  ad.reserve(kStorageKeyInfo.size() + 2 + column.size() + 1 + row.size());
  util::append(ad, util::as_bytes(kStorageKeyInfo));
  ad.push_back(0);
  ad.push_back(kSealedVersion);
  util::append(ad, util::as_bytes(column));
  ad.push_back(0);
  util::append(ad, util::as_bytes(row));
  return ad;
}

}  // namespace

util::Result<StorageKey> StorageKey::derive(util::ByteView identity_secret) {
  if (identity_secret.size() != kEd25519SecretSize) {
    return util::make_error(util::Errc::invalid_argument, "the storage key derives from a 64-byte Ed25519 secret key");
  }
  return StorageKey(crypto::hkdf_sha256({}, identity_secret.first(kSeedSize), util::as_bytes(kStorageKeyInfo),
                                        crypto::kAeadKeySize));
}

util::Bytes StorageKey::seal(std::string_view column, std::string_view row, util::ByteView plaintext) const {
  crypto::AeadNonce nonce{};
  crypto::random_fill(nonce);
  util::Bytes out(kSealedOverhead + plaintext.size());
  out[0] = kSealedVersion;
  std::copy(nonce.begin(), nonce.end(), out.begin() + 1);
  crypto::aead_seal_into(util::MutableByteView(out).subspan(1 + nonce.size()), key_.view(), nonce, plaintext,
                         associated_data(column, row));
  return out;
}

util::Result<crypto::SecureBuffer> StorageKey::open(std::string_view column, std::string_view row,
                                                    util::ByteView sealed) const {
  const std::string where = std::string(column) + " of row " + std::string(row);
  if (sealed.size() < kSealedOverhead || sealed[0] != kSealedVersion) {
    return util::make_error(util::Errc::crypto, where + " is not a sealed value");
  }
  crypto::AeadNonce nonce{};
  std::copy_n(sealed.begin() + 1, nonce.size(), nonce.begin());
  auto opened = crypto::aead_open_secret(key_.view(), nonce, sealed.subspan(1 + nonce.size()),
                                         associated_data(column, row));
  if (!opened.ok()) {
    return util::make_error(util::Errc::crypto, where + " does not open under this identity's storage key "
                                                "(a store of another home, or a value moved or changed)");
  }
  return opened;
}

}  // namespace bc::store
