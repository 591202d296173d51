#include "node/kem_key.h"

#include <algorithm>

#include "crypto/mlkem.h"
#include "store/own_kem_keys.h"

namespace bc::node {
namespace {

// dk = dk_pke (1152) || ek (1184) || H(ek) || z (FIPS 203 Algorithm 16).
constexpr std::size_t kEkInDk = crypto::mlkem::kPkeSecretKeySize;

util::Result<session::KemKey> from_row(store::OwnKemKeys& keys, const store::OwnKemKeyRow& row,
                                       const crypto::SignPublicKey& identity) {
  if (row.public_key.size() != crypto::mlkem::kEncapsulationKeySize) {
    return util::make_error(util::Errc::store, "the store's ML-KEM key has the wrong size");
  }
  if (!session::verify_kem_key(identity, row.public_key, row.signature)) {
    return util::make_error(util::Errc::store, "the store's ML-KEM key is not signed by this identity");
  }
  auto dk = keys.secret(row);
  if (!crypto::mlkem::check_decapsulation_key(dk.view()).ok() ||
      !std::equal(row.public_key.begin(), row.public_key.end(), dk.data() + kEkInDk)) {
    return util::make_error(util::Errc::store, "the store's ML-KEM key is damaged");
  }
  session::KemKey k;
  k.pair.ek = util::to_array<crypto::mlkem::kEncapsulationKeySize>(row.public_key);
  k.pair.dk = std::move(dk);
  k.signature = row.signature;
  return k;
}

}  // namespace

util::Result<void> load_kem_key(store::Store& store, session::Identity& identity, std::int64_t now) {
  const auto identity_key = identity.signing.public_key();
  try {
    store::OwnKemKeys keys(store);
    // Reads first, and a write transaction only when there is something to store: the CLI
    // loads the home for every command, also while the node runs.
    auto current = keys.current();
    if (!current) {
      auto stored = store.transaction([&]() -> util::Result<void> {
        if (keys.current()) return {};  // another process stored one meanwhile
        if (!identity.kem) identity.kem = session::KemKey::generate(identity.signing);
        store::OwnKemKeyRow row;
        row.public_key.assign(identity.kem->pair.ek.begin(), identity.kem->pair.ek.end());
        row.signature = identity.kem->signature;
        row.created_at = now;
        keys.add(row, identity.kem->pair.dk.view());
        return {};
      });
      if (!stored.ok()) return stored.error();
      current = keys.current();
      if (!current) return util::make_error(util::Errc::store, "the store kept no ML-KEM key");
    }
    auto loaded = from_row(keys, *current, identity_key);
    if (!loaded.ok()) return loaded.error();
    identity.kem = std::move(*loaded);
  } catch (const std::exception& e) {
    return util::make_error(util::Errc::store, std::string("loading our ML-KEM key: ") + e.what());
  }
  return {};
}

}  // namespace bc::node
