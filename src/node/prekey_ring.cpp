#include "node/prekey_ring.h"

#include <sys/stat.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "crypto/dh.h"
#include "store/invitations.h"
#include "store/own_prekeys.h"
#include "util/fingerprint.h"

namespace bc::node {
namespace {

const store::OwnPrekeyRow* current_row(const std::vector<store::OwnPrekeyRow>& rows) {
  for (const auto& r : rows) {
    if (!r.retired_at) return &r;
  }
  return nullptr;
}

std::int64_t key_file_time(const Home& home, std::int64_t now) {
  struct stat st {};
  if (::stat(home.identity_path().c_str(), &st) != 0) return now;
  return std::min<std::int64_t>(now, st.st_mtime);
}

}  // namespace

std::int64_t prekey_keep_until(store::Store& store, std::int64_t retired_at, const PrekeyPolicy& policy) {
  std::int64_t until = retired_at + policy.grace.count();
  for (const auto& inv : store::Invitations(store).open_at(retired_at)) until = std::max(until, inv.expires_at);
  return until;
}

util::Result<void> load_prekeys(store::Store& store, const Home& home, session::Identity& identity, std::int64_t now,
                                const PrekeyPolicy& policy) {
  store::OwnPrekeys prekeys(store);
  bool rewrite_file = false;
  // Reads first, and a write transaction only when there is something to change: the CLI loads
  // the home for every command, also while the node runs.
  try {
    const auto all = prekeys.all();
    const auto in_file = std::find_if(all.begin(), all.end(), [&](const store::OwnPrekeyRow& r) {
      return r.public_key == identity.prekey.public_key();
    });
    if (in_file == all.end()) {
      (void)store.transaction([&]() -> util::Result<void> {
        // Adopted: the store's current one (if any) is retired as a rotation at this time would.
        const auto rows = prekeys.all();
        if (const auto* cur = current_row(rows)) {
          prekeys.retire(cur->id, now, prekey_keep_until(store, now, policy));
        }
        store::OwnPrekeyRow row;
        row.public_key = identity.prekey.public_key();
        row.signature = identity.prekey_sig;
        row.created_at = key_file_time(home, now);
        prekeys.add(row, identity.prekey.secret().view());
        return {};
      });
    } else if (in_file->retired_at || in_file->wiped_at) {
      rewrite_file = true;
    }
  } catch (const std::exception& e) {
    return util::make_error(util::Errc::store, std::string("loading our prekeys: ") + e.what());
  }
  wipe_expired_prekeys(store, identity, now);
  try {
    const auto live = prekeys.live();
    const auto* cur = current_row(live);
    if (cur == nullptr) return util::make_error(util::Errc::store, "the store holds no current prekey");
    auto pair = crypto::DhKeyPair::from_secret(prekeys.secret(*cur).view());
    if (!pair.ok() || pair->public_key() != cur->public_key) {
      return util::make_error(util::Errc::store, "the store's current prekey is damaged");
    }
    identity.prekey = std::move(*pair);
    identity.prekey_sig = cur->signature;
    identity.older_prekeys.clear();
    for (const auto& r : live) {
      if (!r.retired_at || (r.keep_until && *r.keep_until <= now)) continue;
      auto older = crypto::DhKeyPair::from_secret(prekeys.secret(r).view());
      if (!older.ok()) return util::make_error(util::Errc::store, "a retired prekey in the store is damaged");
      identity.older_prekeys.push_back({std::move(*older), r.signature});
    }
  } catch (const std::exception& e) {
    return util::make_error(util::Errc::store, std::string("loading our prekeys: ") + e.what());
  }
  if (rewrite_file) return home.replace_key_file(identity);
  return {};
}

util::Result<PrekeyRotated> rotate_prekey(store::Store& store, const Home& home, session::Identity& identity,
                                          std::int64_t now, const PrekeyPolicy& policy) {
  auto next = crypto::DhKeyPair::generate();
  const crypto::Signature sig = identity.signing.sign(session::prekey_signed_message(next.public_key()));
  PrekeyRotated out;
  out.previous = identity.prekey.public_key();
  out.current = next.public_key();
  out.created_at = now;
  store::OwnPrekeys prekeys(store);
  try {
    auto done = store.transaction([&]() -> util::Result<void> {
      const auto live = prekeys.live();
      const auto* cur = current_row(live);
      if (cur == nullptr || cur->public_key != identity.prekey.public_key()) {
        return util::make_error(util::Errc::refused, "the store's current prekey is not the one this node holds; "
                                                      "restart the node and try again");
      }
      out.previous_kept_until = prekey_keep_until(store, now, policy);
      prekeys.retire(cur->id, now, out.previous_kept_until);
      store::OwnPrekeyRow row;
      row.public_key = next.public_key();
      row.signature = sig;
      row.created_at = now;
      prekeys.add(row, next.secret().view());
      return {};
    });
    if (!done.ok()) return done.error();
  } catch (const std::exception& e) {
    return util::make_error(util::Errc::store, std::string("rotating the prekey: ") + e.what());
  }
  identity.older_prekeys.insert(identity.older_prekeys.begin(),
                                session::OlderPrekey{std::move(identity.prekey), identity.prekey_sig});
  identity.prekey = std::move(next);
  identity.prekey_sig = sig;
  if (auto w = home.replace_key_file(identity); !w.ok()) {
    return util::make_error(w.error().code, "the new prekey is in the store, but identity.key was not rewritten (" +
                                                w.error().message + "); the next start repairs it");
  }
  return out;
}

std::size_t wipe_expired_prekeys(store::Store& store, session::Identity& identity, std::int64_t now) {
  store::OwnPrekeys prekeys(store);
  std::vector<store::OwnPrekeyRow> due;
  for (auto& r : prekeys.live()) {
    if (r.retired_at && r.keep_until && *r.keep_until <= now) due.push_back(r);
  }
  std::vector<crypto::DhPublicKey> wiped;
  if (!due.empty()) {
    (void)store.transaction([&]() -> util::Result<void> {
      for (const auto& r : due) {
        prekeys.wipe(r.id, now);
        wiped.push_back(r.public_key);
      }
      return {};
    });
  }
  std::erase_if(identity.older_prekeys, [&](const session::OlderPrekey& o) {
    return std::find(wiped.begin(), wiped.end(), o.prekey.public_key()) != wiped.end();
  });
  return wiped.size();
}

std::int64_t current_prekey_created_at(store::Store& store) {
  const auto live = store::OwnPrekeys(store).live();
  const auto* cur = current_row(live);
  return cur != nullptr ? cur->created_at : 0;
}

bool prekey_rotation_due(store::Store& store, std::int64_t now, const PrekeyPolicy& policy) {
  const std::int64_t created = current_prekey_created_at(store);
  return created != 0 && now - created >= policy.rotate_after.count();
}

nlohmann::json prekey_status_json(store::Store& store, std::int64_t now, const PrekeyPolicy& policy) {
  nlohmann::json older = nlohmann::json::array();
  nlohmann::json current = nullptr;
  std::size_t wiped = 0;
  for (const auto& r : store::OwnPrekeys(store).all()) {
    if (r.wiped_at) {
      ++wiped;
      continue;
    }
    nlohmann::json j{{"fingerprint", util::short_fingerprint(r.public_key)},
                     {"created_at", r.created_at},
                     {"age_s", std::max<std::int64_t>(0, now - r.created_at)}};
    if (!r.retired_at) {
      j["rotate_at"] = r.created_at + policy.rotate_after.count();
      current = std::move(j);
    } else {
      j["retired_at"] = *r.retired_at;
      j["keep_until"] = r.keep_until.value_or(0);
      older.push_back(std::move(j));
    }
  }
  return nlohmann::json{{"current", std::move(current)},
                        {"older", std::move(older)},
                        {"wiped", wiped},
                        {"rotate_after_s", policy.rotate_after.count()},
                        {"grace_s", policy.grace.count()}};
}

}  // namespace bc::node
