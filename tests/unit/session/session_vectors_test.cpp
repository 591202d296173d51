// Checks the session code against tests/vectors/header_encryption.json, envelope.json,
// session_start.json and session_start_pq.json: every value in them must come out of the project's functions again. The
// files were written by tests/vectors/generate_session_vectors.cpp and are checked independently
// of this code by tests/vectors/check_session_vectors.py, so a change that alters the wire
// format fails here even if it is self-consistent.
//
// Header nonces are random in use (encrypt_header draws them), so sealing is checked in two
// halves: the exact bytes from the header and body primitives under the recorded nonce, and
// seal_envelope itself by the header, counters and chain key it produces and by opening its
// envelope.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "crypto/aead.h"
#include "crypto/dh.h"
#include "crypto/mlkem.h"
#include "crypto/sign.h"
#include "session/envelope_crypto.h"
#include "session/header_crypto.h"
#include "session/identity.h"
#include "session/kdf_chain.h"
#include "session/session.h"
#include "session/session_constants.h"
#include "session/session_start.h"
#include "session/state_codec.h"
#include "util/clock.h"
#include "util/hex.h"

namespace bc::session {
namespace {

using Json = nlohmann::json;

Json load(const std::string& name) {
  std::ifstream in(std::string(BC_TEST_VECTORS_DIR) + "/" + name);
  EXPECT_TRUE(in.good()) << name;
  return Json::parse(in);
}

util::Bytes unhex(const Json& v) { return util::hex_decode(v.get<std::string>()).value(); }
template <std::size_t N>
util::ByteArray<N> unhex_array(const Json& v) {
  auto b = unhex(v);
  EXPECT_EQ(b.size(), N);
  return util::to_array<N>(b);
}
std::string hex(util::ByteView v) { return util::hex_encode(v); }
// JSON null stands for the spec's None (an empty SecureBuffer).
Json hex_or_null(const crypto::SecureBuffer& b) { return b.empty() ? Json(nullptr) : Json(hex(b.view())); }

crypto::DhKeyPair dh_key(const Json& secret) { return crypto::DhKeyPair::from_secret(unhex(secret)).value(); }

// An Ed25519 key from the seed the files give and the public key they list: the 64-byte form
// SigningKey takes checks that the two belong together.
crypto::SigningKey signing_key(const Json& seed, const Json& public_key) {
  auto secret = unhex(seed);
  util::append(secret, unhex(public_key));
  return crypto::SigningKey::from_secret(secret).value();
}

TEST(SessionVectorsTest, HeaderEncryption) {
  const auto doc = load("header_encryption.json");
  ASSERT_FALSE(doc["cases"].empty());
  for (const auto& v : doc["cases"]) {
    SCOPED_TRACE(v["name"].get<std::string>());
    const auto hk = unhex(v["header_key"]);
    const auto nonce = unhex_array<crypto::kAeadNonceSize>(v["nonce"]);
    const Header header{unhex_array<32>(v["header"]["dh_public"]), v["header"]["pn"].get<std::uint32_t>(),
                        v["header"]["n"].get<std::uint32_t>()};
    const auto plain = encode_header(header);
    EXPECT_EQ(hex(plain), v["plaintext"]);
    // HENCRYPT under the recorded nonce: the primitive encrypt_header seals with.
    EXPECT_EQ(hex(crypto::aead_seal(hk, nonce, plain, {})), v["ciphertext"]);

    const auto opened = decrypt_header(hk, nonce, unhex(v["ciphertext"]));
    ASSERT_TRUE(opened.has_value());
    EXPECT_EQ(opened->dh, header.dh);
    EXPECT_EQ(opened->pn, header.pn);
    EXPECT_EQ(opened->n, header.n);

    // encrypt_header itself, under the nonce it drew.
    util::ByteArray<kEncryptedHeaderSize> ct{};
    const auto drawn = encrypt_header(ct, hk, header);
    EXPECT_EQ(hex(ct), hex(crypto::aead_seal(hk, drawn, plain, {})));
  }
}

TEST(SessionVectorsTest, EnvelopeSealAndOpen) {
  const auto doc = load("envelope.json");
  ASSERT_FALSE(doc["cases"].empty());
  for (const auto& v : doc["cases"]) {
    SCOPED_TRACE(v["name"].get<std::string>());
    const auto& in = v["inputs"];
    const auto& d = v["derived"];
    const auto& o = v["opened"];
    const auto ad = unhex_array<kAssociatedDataSize>(in["associated_data"]);
    const auto header_key = unhex(in["header_key"]);
    const auto chain_key = unhex(in["chain_key"]);
    const auto receiver_nr = in["receiver_nr"].get<std::uint32_t>();
    const auto n = in["n"].get<std::uint32_t>();
    const auto pn = in["pn"].get<std::uint32_t>();
    const auto payload = unhex(in["payload"]);
    const auto header_nonce = unhex_array<crypto::kAeadNonceSize>(in["header_nonce"]);
    const auto envelope = unhex(d["envelope"]);
    ASSERT_EQ(envelope.size(), wire::kEnvelopeSize);

    // The sender's keys at counter n.
    auto sender_key = dh_key(in["sender_ratchet_secret"]);
    EXPECT_EQ(hex(sender_key.public_key()), d["sender_ratchet_public"]);
    crypto::SecureBuffer ck(chain_key);
    for (std::uint32_t i = receiver_nr; i < n; ++i) ck = kdf_ck(ck.view()).chain_key;
    EXPECT_EQ(hex(ck.view()), d["sender_chain_key"]);
    const auto step = kdf_ck(ck.view());
    EXPECT_EQ(hex(step.message_key.view()), d["message_key"]);
    EXPECT_EQ(hex(step.chain_key.view()), d["next_chain_key"]);
    const auto body_key = derive_body_key(step.message_key.view());
    EXPECT_EQ(hex(body_key.key.view()), d["body_key"]);
    EXPECT_EQ(hex(body_key.nonce), d["body_nonce"]);
    const Header header{sender_key.public_key(), pn, n};
    EXPECT_EQ(hex(encode_header(header)), d["header_plaintext"]);

    // The exact envelope under the recorded header nonce, piece by piece.
    const util::ByteView env(envelope);
    EXPECT_EQ(hex(env.first(kEncryptedHeaderOffset)), in["header_nonce"]);
    const auto enc_header = crypto::aead_seal(header_key, header_nonce, encode_header(header), {});
    EXPECT_EQ(hex(enc_header), d["encrypted_header"]);
    EXPECT_EQ(hex(env.subspan(kEncryptedHeaderOffset, kEncryptedHeaderSize)), d["encrypted_header"]);
    util::Bytes body_ad(ad.begin(), ad.end());
    util::append(body_ad, env.first(kBodyOffset));
    EXPECT_EQ(hex(crypto::aead_seal(body_key.key.view(), body_key.nonce, payload, body_ad)),
              hex(env.subspan(kBodyOffset)));

    // seal_envelope on the sender's state: same header and chain step, under a nonce it drew.
    RatchetState sender;
    sender.chain.dhs = sender_key.copy();
    sender.chain.cks = ck.copy();
    sender.chain.hks = crypto::SecureBuffer(header_key);
    sender.chain.ns = n;
    sender.chain.pn = pn;
    sender.ad = ad;
    auto sealed = seal_envelope(sender, payload);
    ASSERT_TRUE(sealed.ok()) << sealed.error().message;
    EXPECT_EQ(sender.chain.ns, n + 1);
    EXPECT_EQ(hex(sender.chain.cks.view()), d["next_chain_key"]);
    const util::ByteView s(*sealed);
    const auto sealed_header = decrypt_header(header_key, util::to_array<crypto::kAeadNonceSize>(s.first(24)),
                                              s.subspan(kEncryptedHeaderOffset, kEncryptedHeaderSize));
    ASSERT_TRUE(sealed_header.has_value());
    EXPECT_EQ(sealed_header->dh, header.dh);
    EXPECT_EQ(sealed_header->pn, pn);
    EXPECT_EQ(sealed_header->n, n);

    // The receiver the file describes opens both the recorded envelope and the fresh one.
    auto receiver = [&] {
      const auto& r = in["receiver"];
      RatchetState st;
      st.chain.dhs = dh_key(r["ratchet_secret"]);
      st.chain.dhr = sender_key.public_key();
      st.chain.rk = crypto::SecureBuffer(unhex(r["root_key"]));
      st.chain.cks = crypto::SecureBuffer(unhex(r["sending_chain_key"]));
      st.chain.ckr = crypto::SecureBuffer(chain_key);
      st.chain.hks = crypto::SecureBuffer(unhex(r["sending_header_key"]));
      st.chain.hkr = crypto::SecureBuffer(header_key);
      st.chain.nhks = crypto::SecureBuffer(unhex(r["next_sending_header_key"]));
      st.chain.nhkr = crypto::SecureBuffer(unhex(r["next_receiving_header_key"]));
      st.chain.nr = receiver_nr;
      st.ad = ad;
      return st;
    };
    const auto now = util::from_unix_ms(in["receive_time_ms"].get<std::int64_t>());
    auto fresh = receiver();
    auto fresh_opened = open_envelope(fresh, *sealed, now);
    ASSERT_TRUE(fresh_opened.ok()) << fresh_opened.error().message;
    EXPECT_EQ(fresh_opened->payload, payload);

    auto rs = receiver();
    auto opened = open_envelope(rs, envelope, now);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    EXPECT_FALSE(opened->dh_ratchet_stepped);
    EXPECT_EQ(hex(opened->payload), o["payload"]);
    EXPECT_EQ(rs.chain.nr, o["nr"].get<std::uint32_t>());
    EXPECT_EQ(hex(rs.chain.ckr.view()), o["receiving_chain_key"]);
    Json skipped = Json::array();
    for (const auto& chain : rs.skipped.chains()) {
      EXPECT_TRUE(chain.header_key.equals(header_key));
      for (const auto& [kn, key] : chain.keys) {
        skipped.push_back({{"n", kn},
                           {"message_key", hex(rs.skipped.message_key(key))},
                           {"expires_at_ms", util::to_unix_ms(key.expires_at)}});
      }
    }
    EXPECT_EQ(skipped, o["skipped"]);
    EXPECT_EQ(hex(encode_state(rs, rs.chain.ns, rs.chain.cks.view()).view()), o["state"]);
    // The encoding decodes back to the same state.
    auto decoded = decode_state(unhex(o["state"]));
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_EQ(hex(encode_state(*decoded, decoded->chain.ns, decoded->chain.cks.view()).view()), o["state"]);
  }
}

void expect_chain(const ChainState& c, const Json& v) {
  EXPECT_EQ(hex(c.dhs->public_key()), v["dhs_public"]);
  EXPECT_EQ(c.dhr ? Json(hex(*c.dhr)) : Json(nullptr), v["dhr"]);
  EXPECT_EQ(hex(c.rk.view()), v["rk"]);
  EXPECT_EQ(hex_or_null(c.cks), v["cks"]);
  EXPECT_EQ(hex_or_null(c.ckr), v["ckr"]);
  EXPECT_EQ(hex_or_null(c.hks), v["hks"]);
  EXPECT_EQ(hex_or_null(c.hkr), v["hkr"]);
  EXPECT_EQ(hex_or_null(c.nhks), v["nhks"]);
  EXPECT_EQ(hex_or_null(c.nhkr), v["nhkr"]);
  EXPECT_EQ(c.ns, v["ns"].get<std::uint32_t>());
  EXPECT_EQ(c.nr, v["nr"].get<std::uint32_t>());
  EXPECT_EQ(c.pn, v["pn"].get<std::uint32_t>());
}

TEST(SessionVectorsTest, SessionStart) {
  const auto doc = load("session_start.json");
  const auto& in = doc["inputs"];
  const auto& d = doc["derived"];
  const auto secret = unhex(in["invitation_secret"]);
  const auto reachability = unhex(in["reachability"]);

  // Keys and prekey signatures.
  auto inviter_ik = signing_key(in["inviter"]["identity_seed"], d["inviter"]["identity_public"]);
  auto invitee_ik = signing_key(in["invitee"]["identity_seed"], d["invitee"]["identity_public"]);
  auto inviter_spk = dh_key(in["inviter"]["prekey_secret"]);
  auto invitee_spk = dh_key(in["invitee"]["prekey_secret"]);
  auto ek = dh_key(in["invitee"]["ephemeral_secret"]);
  auto r = dh_key(in["invitee"]["first_ratchet_secret"]);
  auto inviter_ratchet = dh_key(in["inviter"]["first_ratchet_secret"]);
  EXPECT_EQ(hex(inviter_spk.public_key()), d["inviter"]["prekey_public"]);
  EXPECT_EQ(hex(invitee_spk.public_key()), d["invitee"]["prekey_public"]);
  EXPECT_EQ(hex(ek.public_key()), d["invitee"]["ephemeral_public"]);
  EXPECT_EQ(hex(r.public_key()), d["invitee"]["first_ratchet_public"]);
  EXPECT_EQ(hex(inviter_ratchet.public_key()), d["inviter"]["first_ratchet_public"]);
  const auto inviter_sig = inviter_ik.sign(prekey_signed_message(inviter_spk.public_key()));
  const auto invitee_sig = invitee_ik.sign(prekey_signed_message(invitee_spk.public_key()));
  EXPECT_EQ(hex(inviter_sig), d["inviter"]["prekey_signature"]);
  EXPECT_EQ(hex(invitee_sig), d["invitee"]["prekey_signature"]);

  // The intermediate secrets of "Session start".
  const auto dh1 = invitee_spk.agree(inviter_spk.public_key()).value();
  const auto dh2 = ek.agree(inviter_spk.public_key()).value();
  EXPECT_EQ(hex(dh1.view()), d["dh1"]);
  EXPECT_EQ(hex(dh2.view()), d["dh2"]);
  const auto start_secrets = derive_start_secrets(secret, dh1.view(), dh2.view(), unhex(d["transcript"]));
  EXPECT_EQ(hex(start_secrets.root_key.view()), d["sk"]);
  EXPECT_EQ(hex(start_secrets.initiator_header.view()), d["hka"]);
  EXPECT_EQ(hex(start_secrets.responder_header.view()), d["nhkb"]);
  util::Bytes hello_info_tail(ek.public_key().begin(), ek.public_key().end());
  util::append(hello_info_tail, inviter_spk.public_key());
  util::append(hello_info_tail, inviter_ik.public_key());
  const auto hello_key = derive_hello_key(secret, dh2.view(), hello_info_tail);
  EXPECT_EQ(hex(hello_key.key.view()), d["hello_key"]);
  EXPECT_EQ(hex(hello_key.nonce), d["hello_nonce"]);
  EXPECT_EQ(hex(r.agree(inviter_spk.public_key()).value().view()), d["invitee_ratchet_dh"]);
  EXPECT_EQ(hex(inviter_ratchet.agree(r.public_key()).value().view()), d["inviter_ratchet_dh"]);

  // The invitee's start: HELLO bytes and state.
  const LocalKeys invitee_local{invitee_ik, invitee_spk, invitee_sig};
  const PeerKeys inviter_peer{inviter_ik.public_key(), inviter_spk.public_key(), inviter_sig};
  auto start = start_as_invitee_with_keys_for_testing(invitee_local, inviter_peer, secret, reachability, ek.copy(),
                                                      r.copy());
  ASSERT_TRUE(start.ok()) << start.error().message;
  EXPECT_EQ(hex(start->hello), d["hello"]);
  auto hello_plain = crypto::aead_open(hello_key.key.view(), hello_key.nonce,
                                       util::ByteView(start->hello).subspan(kHelloEphemeralSize), {});
  ASSERT_TRUE(hello_plain.ok());
  EXPECT_EQ(hex(*hello_plain), d["hello_plaintext"]);
  EXPECT_EQ(hex(start->session.associated_data()), d["associated_data"]);
  expect_chain(start->session.state().chain, d["invitee_state"]);
  EXPECT_EQ(hex(start->session.serialize().view()), d["invitee_state"]["encoded"]);

  // The inviter's side, from the file's HELLO bytes.
  const LocalKeys inviter_local{inviter_ik, inviter_spk, inviter_sig};
  const util::Bytes invitation_id = {0x2a};
  const OpenInvitation open[] = {{invitation_id, secret}};
  auto accepted = accept_hello_with_key_for_testing(inviter_local, unhex(d["hello"]), open, inviter_ratchet.copy());
  ASSERT_TRUE(accepted.ok()) << accepted.error().message;
  EXPECT_EQ(accepted->invitation_id, invitation_id);
  EXPECT_EQ(hex(accepted->invitee.identity), d["invitee"]["identity_public"]);
  EXPECT_EQ(hex(accepted->invitee.prekey), d["invitee"]["prekey_public"]);
  EXPECT_EQ(hex(accepted->invitee.prekey_signature), d["invitee"]["prekey_signature"]);
  EXPECT_EQ(accepted->reachability, reachability);
  EXPECT_EQ(hex(accepted->session.associated_data()), d["associated_data"]);
  expect_chain(accepted->session.state().chain, d["inviter_state"]);
  EXPECT_EQ(hex(accepted->session.serialize().view()), d["inviter_state"]["encoded"]);

  // The first envelope each way opens to the listed payload and state.
  // No key is skipped in these opens, so the receive time is arbitrary.
  const auto now = util::from_unix_ms(1'700'000'000'000);
  auto to_inviter = accepted->session.open(unhex(d["envelope_to_inviter"]), now);
  ASSERT_TRUE(to_inviter.ok()) << to_inviter.error().message;
  const auto& oi = doc["opened"]["inviter"];
  EXPECT_EQ(hex(*to_inviter), oi["payload"]);
  EXPECT_EQ(hex(accepted->session.state().chain.ckr.view()), oi["state"]["ckr"]);
  EXPECT_EQ(accepted->session.state().chain.nr, oi["state"]["nr"].get<std::uint32_t>());

  // The invitee has sent one envelope before it opens the inviter's (PN counts it).
  auto reservation = start->session.reserve(1);
  ASSERT_TRUE(start->session.commit_reservation(reservation).ok());
  ASSERT_TRUE(start->session.seal(unhex(in["payload_to_inviter"])).ok());
  const auto& oe = doc["opened"]["invitee"];
  const auto ns_before = start->session.state().chain.ns;
  auto to_invitee = start->session.open(unhex(d["envelope_to_invitee"]), now);
  ASSERT_TRUE(to_invitee.ok()) << to_invitee.error().message;
  EXPECT_EQ(hex(*to_invitee), oe["payload"]);
  const auto& c = start->session.state().chain;
  // Session::open does not say whether it stepped; a replaced sending chain (Ns back to 0) does.
  EXPECT_EQ(oe["dh_ratchet_stepped"].get<bool>(), c.ns == 0 && ns_before > 0);
  EXPECT_EQ(hex(*c.dhr), oe["state"]["dhr"]);
  EXPECT_EQ(hex(c.hkr.view()), oe["state"]["hkr"]);
  EXPECT_EQ(hex(c.ckr.view()), oe["state"]["ckr"]);
  EXPECT_EQ(hex(c.hks.view()), oe["state"]["hks"]);
  EXPECT_EQ(c.nr, oe["state"]["nr"].get<std::uint32_t>());
  EXPECT_EQ(c.pn, oe["state"]["pn"].get<std::uint32_t>());
}

// session_start_pq.json: the hybrid start. ek, ct and SS come out of ML-KEM again from the
// recorded seeds; the HELLO bytes out of the start; the inviter accepts them as hybrid.
TEST(SessionVectorsTest, HybridSessionStart) {
  const auto doc = load("session_start_pq.json");
  const auto& in = doc["inputs"];
  const auto& d = doc["derived"];
  const auto secret = unhex(in["invitation_secret"]);
  const auto reachability = unhex(in["reachability"]);
  // The same identity seeds as session_start.json, whose public keys are listed there.
  const auto classical = load("session_start.json")["derived"];
  auto inviter_ik = signing_key(in["inviter"]["identity_seed"], classical["inviter"]["identity_public"]);
  auto invitee_ik = signing_key(in["invitee"]["identity_seed"], classical["invitee"]["identity_public"]);
  auto inviter_spk = dh_key(in["inviter"]["prekey_secret"]);
  auto invitee_spk = dh_key(in["invitee"]["prekey_secret"]);
  auto ek = dh_key(in["invitee"]["ephemeral_secret"]);
  auto r = dh_key(in["invitee"]["first_ratchet_secret"]);
  KemKey kem{crypto::mlkem::keygen_internal(unhex(in["kem"]["d"]), unhex(in["kem"]["z"])), {}};
  EXPECT_EQ(hex(kem.pair.ek), in["kem"]["encapsulation_key"]);
  kem.signature = inviter_ik.sign(kem_key_signed_message(kem.pair.ek));
  EXPECT_EQ(hex(kem.signature), d["kem_key_signature"]);
  EXPECT_TRUE(verify_kem_key(inviter_ik.public_key(), kem.pair.ek, kem.signature));
  EXPECT_EQ(hex(kem_key_hash(kem.pair.ek)), d["kem_key_hash"]);
  const auto m = unhex(in["kem"]["m"]);
  const auto enc = crypto::mlkem::encaps_internal(kem.pair.ek, m).value();
  EXPECT_EQ(hex(enc.ciphertext), in["kem"]["ciphertext"]);
  EXPECT_EQ(hex(enc.shared_secret.view()), in["kem"]["shared_secret"]);

  const auto dh1 = invitee_spk.agree(inviter_spk.public_key()).value();
  const auto dh2 = ek.agree(inviter_spk.public_key()).value();
  const auto secrets = derive_hybrid_start_secrets(secret, dh1.view(), dh2.view(), enc.shared_secret.view(),
                                                   unhex(d["transcript"]));
  EXPECT_EQ(hex(secrets.root_key.view()), d["sk"]);
  EXPECT_EQ(hex(secrets.initiator_header.view()), d["hka"]);
  EXPECT_EQ(hex(secrets.responder_header.view()), d["nhkb"]);

  const auto invitee_sig = invitee_ik.sign(prekey_signed_message(invitee_spk.public_key()));
  const auto inviter_sig = inviter_ik.sign(prekey_signed_message(inviter_spk.public_key()));
  const LocalKeys invitee_local{invitee_ik, invitee_spk, invitee_sig};
  PeerKeys inviter_peer{inviter_ik.public_key(), inviter_spk.public_key(), inviter_sig};
  inviter_peer.kem = KemCommitment{kem_key_hash(kem.pair.ek), util::Bytes(kem.pair.ek.begin(), kem.pair.ek.end())};
  auto start = start_as_invitee_with_keys_for_testing(invitee_local, inviter_peer, secret, reachability, ek.copy(),
                                                      r.copy(), m);
  ASSERT_TRUE(start.ok()) << start.error().message;
  EXPECT_TRUE(start->post_quantum);
  EXPECT_EQ(hex(start->hello), d["hello"]);

  const LocalKeys inviter_local{inviter_ik, inviter_spk, inviter_sig, &kem};
  const util::Bytes invitation_id = {0x2b};
  const auto hash = kem_key_hash(kem.pair.ek);
  const OpenInvitation open[] = {{invitation_id, secret, hash}};
  auto accepted = accept_hello(inviter_local, unhex(d["hello"]), open);
  ASSERT_TRUE(accepted.ok()) << accepted.error().message;
  EXPECT_TRUE(accepted->post_quantum);
  EXPECT_EQ(accepted->reachability, reachability);
}

}  // namespace
}  // namespace bc::session
