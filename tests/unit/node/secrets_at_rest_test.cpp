// Secrets at rest (issue 19), end to end: two nodes in this process, on real homes, start a
// session from an invitation over the direct channel and exchange messages; copies of store.db
// and store.db-wal taken while the nodes run and after they stopped hold none of the keys the
// sessions used (root, chain and header keys, ratchet DH secrets, the invitation secret, the
// identities' secrets). The keys are read by unsealing each store with its identity's key.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "crypto/hash.h"
#include "crypto/random.h"
#include "node/control_client.h"
#include "node/control_protocol.h"
#include "node/direct_addresses.h"
#include "node/node.h"
#include "node/submit_once.h"
#include "session/invitation.h"
#include "session/reachability.h"
#include "session/state_codec.h"
#include "store/contacts.h"
#include "store/invitations.h"
#include "store/messages.h"
#include "support/file_search.h"
#include "support/temp_dir.h"

namespace bc::node {
namespace {

using namespace std::chrono_literals;

struct Party {
  Party(const std::filesystem::path& dir, const std::string& name) : home(dir / name) {
    EXPECT_TRUE(home.create_identity(session::Identity::generate(name).value()).ok());
  }
  session::Identity identity() const { return home.load_identity().value(); }
  std::unique_ptr<store::Store> store() const { return home.open_store(identity()).value(); }
  void start() {
    NodeOptions options;
    options.listen = "127.0.0.1:0";
    auto created = Node::create(home, identity(), Config{}, options);
    ASSERT_TRUE(created.ok()) << created.error().message;
    node = std::move(*created);
    thread = std::thread([this] { node->run(stop); });
  }
  void halt() {
    stop = true;
    if (thread.joinable()) thread.join();
    node.reset();
  }
  void copy_files(const std::filesystem::path& to) const {
    std::filesystem::create_directories(to);
    for (const char* f : {"store.db", "store.db-wal"}) {
      std::error_code ec;  // the WAL may be absent (after a clean stop)
      std::filesystem::copy_file(home.dir() / f, to / f, ec);
    }
  }
  void send(std::int64_t contact_id, const std::string& text) {
    auto s = store();
    SqliteLinkStore links(*s, contact_id);
    (void)submit_once(*s, links, contact_id, "", wire::Precedence::routine,
                      link::Content{link::ContentKind::text, {}, util::Bytes(text.begin(), text.end())},
                      util::WallTime{std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())});
    (void)control_call(home.control_socket_path(), make_request(ControlOp::outbox), 2s);
  }
  std::size_t delivered() const { return store::inbox_after(*store(), 0, false).size(); }
  // Every key in the session state with contact_id now, added to keys.
  void sample_keys(std::int64_t contact_id, std::vector<util::Bytes>& keys) const {
    auto sealed = store::Messages(*store(), contact_id).session();
    ASSERT_TRUE(sealed.has_value());
    auto state = session::decode_state(sealed->view()).value();
    const auto& c = state.chain;
    for (const auto* k : {&c.rk, &c.cks, &c.ckr, &c.hks, &c.hkr, &c.nhks, &c.nhkr}) {
      if (!k->empty()) keys.emplace_back(k->view().begin(), k->view().end());
    }
    if (c.dhs) keys.emplace_back(c.dhs->secret().view().begin(), c.dhs->secret().view().end());
  }

  Home home;
  std::unique_ptr<Node> node;
  std::atomic<bool> stop{false};
  std::thread thread;
};

template <class Pred>
bool wait_for(Pred pred, std::chrono::seconds limit = 30s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return pred();
}

TEST(SecretsAtRest, StoreCopiesWithoutTheKeyFileHoldNoKey) {
  test::TempDir dir;
  Party wash(dir.path(), "washington");
  Party mosc(dir.path(), "moscow");
  std::vector<util::Bytes> keys;  // everything that must not be found

  // washington invites moscow (what `invite` and `contact add` write).
  util::ByteArray<session::kInvitationSecretSize> secret{};
  crypto::random_fill(secret);
  keys.emplace_back(secret.begin(), secret.end());
  const std::int64_t now_s = util::to_unix_seconds(util::SystemClock().now());
  {
    store::IssuedInvitation inv;
    inv.id = session::invitation_id(secret);
    const auto hash = crypto::blake2b({secret});
    inv.secret_hash.assign(hash.begin(), hash.end());
    inv.created_at = now_s;
    inv.expires_at = now_s + 3600;
    ASSERT_TRUE(store::Invitations(*wash.store()).record(inv, secret).ok());
  }
  wash.start();
  const std::string wash_address = *wash.node->listen_address();
  const auto wash_id = wash.identity();
  std::int64_t wash_in_mosc = 0;
  {
    auto s = mosc.store();
    store::Contact c;
    c.alias = "washington";
    c.party_name = "washington";
    c.identity_key = wash_id.signing.public_key();
    c.prekey = wash_id.prekey.public_key();
    c.prekey_sig = wash_id.prekey_sig;
    session::Reachability reach;
    reach.direct = {wash_address};
    c.reachability = session::encode_reachability(reach);
    c.added_at = now_s;
    wash_in_mosc = store::Contacts(*s).add(c, secret).value();
    seed_invitation_addresses(*s, wash_in_mosc, reach.direct, now_s * 1000);
  }
  for (const Party* p : {&wash, &mosc}) {
    const auto id = p->identity();
    keys.emplace_back(id.signing.secret().view().begin(), id.signing.secret().view().begin() + 32);
    keys.emplace_back(id.prekey.secret().view().begin(), id.prekey.secret().view().end());
  }
  mosc.start();

  std::int64_t mosc_in_wash = 0;
  ASSERT_TRUE(wait_for([&] {
    auto c = store::Contacts(*wash.store()).find("moscow");
    if (c) mosc_in_wash = c->id;
    return c.has_value();
  })) << "the HELLO was not accepted";

  // Messages both ways; the keys of both sessions sampled as they move on.
  const std::string marker = "at-rest-marker-" + std::to_string(now_s);
  auto exchange = [&](int round) {
    mosc.send(wash_in_mosc, marker + "-m" + std::to_string(round));
    wash.send(mosc_in_wash, marker + "-w" + std::to_string(round));
    const auto want = static_cast<std::size_t>(round + 1);
    ASSERT_TRUE(wait_for([&] { return wash.delivered() >= want && mosc.delivered() >= want; }));
    wash.sample_keys(mosc_in_wash, keys);
    mosc.sample_keys(wash_in_mosc, keys);
  };
  for (int round = 0; round < 3; ++round) exchange(round);
  wash.copy_files(dir.path() / "running" / "washington");
  mosc.copy_files(dir.path() / "running" / "moscow");
  EXPECT_GT(std::filesystem::file_size(dir.path() / "running" / "washington" / "store.db-wal"), 0u);
  for (int round = 3; round < 5; ++round) exchange(round);

  wash.halt();
  mosc.halt();
  wash.sample_keys(mosc_in_wash, keys);
  mosc.sample_keys(wash_in_mosc, keys);
  wash.copy_files(dir.path() / "stopped" / "washington");
  mosc.copy_files(dir.path() / "stopped" / "moscow");
  ASSERT_GT(keys.size(), 40u);

  bool marker_seen = false;
  for (const char* when : {"running", "stopped"}) {
    for (const char* who : {"washington", "moscow"}) {
      for (const char* f : {"store.db", "store.db-wal"}) {
        const auto file = dir.path() / when / who / f;
        for (std::size_t i : test::needles_in_file(file, keys)) ADD_FAILURE() << file << " holds key " << i;
        marker_seen = marker_seen || test::file_contains(file, util::as_bytes(marker));
      }
    }
  }
  // The search finds what is there: message bodies are kept in clear (docs/operations.md).
  EXPECT_TRUE(marker_seen);
}

}  // namespace
}  // namespace bc::node
