// Writes tests/vectors/header_encryption.json, envelope.json and session_start.json from the
// project's own session code. Run by hand when the vectors must change (they are data, checked
// by tests/unit/session/session_vectors_test.cpp and, independently of this code, by
// tests/vectors/check_session_vectors.py):
//
//   session_vectors_gen [OUTPUT_DIR]   (default: the source tree's tests/vectors)
//
// Every secret input is a fixed value derived from a label, and every key pair goes through the
// *_with_keys_for_testing hooks, so two runs write identical files. The one random input left,
// the header nonce that encrypt_header draws itself (session/header_crypto.h has no hook taking
// a nonce), comes from a deterministic libsodium generator installed before sodium_init(); the
// vectors record each nonce as an input, so nothing checked depends on this generator.
#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "crypto/aead.h"
#include "crypto/dh.h"
#include "crypto/hash.h"
#include "crypto/mlkem.h"
#include "crypto/sha3.h"
#include "crypto/sign.h"
#include "session/envelope_crypto.h"
#include "session/header_crypto.h"
#include "session/identity.h"
#include "session/kdf_chain.h"
#include "session/reachability.h"
#include "session/session.h"
#include "session/session_constants.h"
#include "session/session_start.h"
#include "session/state_codec.h"
#include "util/clock.h"
#include "util/hex.h"

namespace {

using Json = nlohmann::ordered_json;
using bc::util::Bytes;
using bc::util::ByteView;
namespace crypto = bc::crypto;
namespace session = bc::session;
namespace util = bc::util;

// --- Deterministic randomness (generator process only) -----------------------------------------

// Each call draws from a fresh ChaCha20 stream keyed by a fixed seed and the call number, so the
// n-th nonce drawn is the same in every run.
std::uint64_t g_rng_calls = 0;

void rng_buf(void* buf, std::size_t size) {
  unsigned char seed[randombytes_SEEDBYTES] = "backchannel session vectors rng";
  for (std::size_t i = 0; i < 8; ++i) {
    seed[randombytes_SEEDBYTES - 1 - i] = static_cast<unsigned char>(g_rng_calls >> (8 * i));
  }
  ++g_rng_calls;
  randombytes_buf_deterministic(buf, size, seed);
}
std::uint32_t rng_random() {
  std::uint32_t v = 0;
  rng_buf(&v, sizeof v);
  return v;
}
const char* rng_name() { return "backchannel-vectors-deterministic"; }

randombytes_implementation g_rng = {rng_name, rng_random, nullptr, nullptr, rng_buf, nullptr};

// --- Helpers ------------------------------------------------------------------------------------

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "session_vectors_gen: %s\n", what.c_str());
  std::exit(1);
}

template <typename T>
T must(util::Result<T> r, const char* what) {
  if (!r) fail(std::string(what) + ": " + r.error().message);
  return std::move(*r);
}

void expect(bool ok, const std::string& what) {
  if (!ok) fail("inconsistent: " + what);
}

std::string hex(ByteView v) { return util::hex_encode(v); }

// A fixed 32-byte secret, named so that the files say where each value comes from.
Bytes fixed_secret(const std::string& label) {
  const std::string text = "backchannel session vectors v1: " + label;
  auto h = crypto::blake2b({util::as_bytes(text)});
  return Bytes(h.begin(), h.end());
}

// An Ed25519 key from its 32-byte seed, in the seed || public form SigningKey::from_secret takes.
crypto::SigningKey signing_key(ByteView seed) {
  Bytes secret(crypto_sign_SECRETKEYBYTES);
  crypto::SignPublicKey pub{};
  crypto_sign_seed_keypair(pub.data(), secret.data(), seed.data());
  return must(crypto::SigningKey::from_secret(secret), "Ed25519 key");
}

crypto::DhKeyPair dh_key(ByteView secret) { return must(crypto::DhKeyPair::from_secret(secret), "X25519 key"); }

Bytes agree(const crypto::DhKeyPair& a, const crypto::DhPublicKey& b) {
  auto s = must(a.agree(b), "X25519");
  return Bytes(s.view().begin(), s.view().end());
}

Bytes payload_pattern(std::uint8_t salt) {
  Bytes p(bc::wire::kEnvelopePayloadSize);
  for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<std::uint8_t>(i * 31 + salt);
  return p;
}

Bytes concat(std::initializer_list<ByteView> parts) {
  Bytes out;
  for (auto p : parts) util::append(out, p);
  return out;
}

void write(const std::string& dir, const std::string& name, const Json& doc) {
  std::ofstream out(dir + "/" + name);
  out << doc.dump(2) << '\n';
  if (!out) fail("cannot write " + dir + "/" + name);
  std::printf("wrote %s/%s\n", dir.c_str(), name.c_str());
}

Json chain_json(const session::ChainState& c) {
  Json j;
  j["dhs_public"] = hex(c.dhs->public_key());
  j["dhr"] = c.dhr ? Json(hex(*c.dhr)) : Json(nullptr);
  j["rk"] = hex(c.rk.view());
  auto opt = [](const crypto::SecureBuffer& b) { return b.empty() ? Json(nullptr) : Json(hex(b.view())); };
  j["cks"] = opt(c.cks);
  j["ckr"] = opt(c.ckr);
  j["hks"] = opt(c.hks);
  j["hkr"] = opt(c.hkr);
  j["nhks"] = opt(c.nhks);
  j["nhkr"] = opt(c.nhkr);
  j["ns"] = c.ns;
  j["nr"] = c.nr;
  j["pn"] = c.pn;
  return j;
}

// --- header_encryption.json ---------------------------------------------------------------------

Json header_vectors() {
  struct Case {
    const char* name;
    std::uint32_t pn;
    std::uint32_t n;
  };
  // Zero counters, small ones, and large ones whose four bytes all differ, so a byte-order
  // mistake shows.
  const Case cases[] = {{"first_message", 0, 0}, {"counters", 7, 258}, {"large_counters", 0xfffffffe, 0x01020304}};
  Json list = Json::array();
  for (const auto& c : cases) {
    const auto hk = fixed_secret(std::string("header key ") + c.name);
    const auto dh = dh_key(fixed_secret(std::string("header ratchet key ") + c.name)).public_key();
    const session::Header header{dh, c.pn, c.n};
    util::ByteArray<session::kEncryptedHeaderSize> ct{};
    const auto nonce = session::encrypt_header(ct, hk, header);
    const auto back = session::decrypt_header(hk, nonce, ct);
    expect(back && back->dh == dh && back->pn == c.pn && back->n == c.n, "header round trip");
    Json v;
    v["name"] = c.name;
    v["header_key"] = hex(hk);
    v["nonce"] = hex(nonce);
    v["header"] = {{"dh_public", hex(dh)}, {"pn", c.pn}, {"n", c.n}};
    v["plaintext"] = hex(session::encode_header(header));
    v["ciphertext"] = hex(ct);
    list.push_back(v);
  }
  Json doc;
  doc["description"] =
      "backchannel header encryption vectors (docs/protocol.md, Double Ratchet with header encryption: HENCRYPT). "
      "plaintext = dh_public || pn (u32 BE) || n (u32 BE); ciphertext = XChaCha20-Poly1305-IETF(header_key, nonce, "
      "plaintext, AD empty), ciphertext || tag. The nonce is random in use and fixed here.";
  doc["cases"] = list;
  return doc;
}

// --- envelope.json ------------------------------------------------------------------------------

struct EnvelopeCase {
  const char* name;
  std::uint32_t receiver_nr;  // receiver's Nr; its CKr is the chain key at this counter
  std::uint32_t n;            // sender's Ns
  std::uint32_t pn;
  std::uint8_t payload_salt;
};

Json envelope_case(const EnvelopeCase& ec, std::int64_t receive_ms) {
  const std::string tag = ec.name;
  const auto ad = fixed_secret("envelope AD first half " + tag);
  auto ad2 = fixed_secret("envelope AD second half " + tag);
  const auto associated_data = concat({ad, ad2});
  const auto sender_secret = fixed_secret("envelope sender ratchet key " + tag);
  const auto header_key = fixed_secret("envelope header key " + tag);
  const auto chain_key = fixed_secret("envelope chain key " + tag);
  const auto payload = payload_pattern(ec.payload_salt);
  // The receiver's own half of the state, needed only to encode it after the open.
  const auto r_secret = fixed_secret("envelope receiver ratchet key " + tag);
  const auto r_rk = fixed_secret("envelope receiver root key " + tag);
  const auto r_cks = fixed_secret("envelope receiver sending chain key " + tag);
  const auto r_hks = fixed_secret("envelope receiver sending header key " + tag);
  const auto r_nhks = fixed_secret("envelope receiver next sending header key " + tag);
  const auto r_nhkr = fixed_secret("envelope receiver next receiving header key " + tag);

  auto sender_key = dh_key(sender_secret);
  const auto sender_pub = sender_key.public_key();

  // The sender's chain key at counter n: the receiver's chain key stepped n - nr times.
  crypto::SecureBuffer ck(chain_key);
  for (std::uint32_t i = ec.receiver_nr; i < ec.n; ++i) ck = session::kdf_ck(ck.view()).chain_key;
  const Bytes sender_ck(ck.view().begin(), ck.view().end());
  auto step = session::kdf_ck(sender_ck);
  auto body_key = session::derive_body_key(step.message_key.view());

  session::RatchetState sender;
  sender.chain.dhs = std::move(sender_key);
  sender.chain.rk = crypto::SecureBuffer(fixed_secret("envelope sender root key " + tag));
  sender.chain.cks = crypto::SecureBuffer(sender_ck);
  sender.chain.hks = crypto::SecureBuffer(header_key);
  sender.chain.ns = ec.n;
  sender.chain.pn = ec.pn;
  sender.ad = util::to_array<session::kAssociatedDataSize>(associated_data);
  const auto env = must(session::seal_envelope(sender, payload), "seal_envelope");
  expect(sender.chain.ns == ec.n + 1 && sender.chain.cks.equals(step.chain_key.view()), "sender state after seal");

  session::RatchetState receiver;
  receiver.chain.dhs = dh_key(r_secret);
  receiver.chain.dhr = sender_pub;
  receiver.chain.rk = crypto::SecureBuffer(r_rk);
  receiver.chain.cks = crypto::SecureBuffer(r_cks);
  receiver.chain.ckr = crypto::SecureBuffer(chain_key);
  receiver.chain.hks = crypto::SecureBuffer(r_hks);
  receiver.chain.hkr = crypto::SecureBuffer(header_key);
  receiver.chain.nhks = crypto::SecureBuffer(r_nhks);
  receiver.chain.nhkr = crypto::SecureBuffer(r_nhkr);
  receiver.chain.nr = ec.receiver_nr;
  receiver.ad = sender.ad;
  const auto opened = must(session::open_envelope(receiver, env, util::from_unix_ms(receive_ms)), "open_envelope");
  expect(opened.payload == payload && !opened.dh_ratchet_stepped, "opened payload");
  expect(receiver.chain.nr == ec.n + 1 && receiver.chain.ckr.equals(step.chain_key.view()), "receiver chain after open");

  Json skipped = Json::array();
  for (const auto& chain : receiver.skipped.chains()) {
    expect(chain.header_key.equals(header_key), "skipped keys under the receiving header key");
    for (const auto& [n, key] : chain.keys) {
      skipped.push_back({{"n", n},
                         {"message_key", hex(receiver.skipped.message_key(key))},
                         {"expires_at_ms", util::to_unix_ms(key.expires_at)}});
    }
  }
  const auto state = session::encode_state(receiver, receiver.chain.ns, receiver.chain.cks.view());

  const ByteView e(env);
  const session::Header header{sender_pub, ec.pn, ec.n};
  Json v;
  v["name"] = ec.name;
  v["inputs"] = {
      {"associated_data", hex(associated_data)},
      {"sender_ratchet_secret", hex(sender_secret)},
      {"header_key", hex(header_key)},
      {"chain_key", hex(chain_key)},
      {"receiver_nr", ec.receiver_nr},
      {"n", ec.n},
      {"pn", ec.pn},
      {"payload", hex(payload)},
      {"header_nonce", hex(e.first(session::kEncryptedHeaderOffset))},
      {"receive_time_ms", receive_ms},
      {"receiver", {{"ratchet_secret", hex(r_secret)},
                    {"root_key", hex(r_rk)},
                    {"sending_chain_key", hex(r_cks)},
                    {"sending_header_key", hex(r_hks)},
                    {"next_sending_header_key", hex(r_nhks)},
                    {"next_receiving_header_key", hex(r_nhkr)}}},
  };
  v["derived"] = {
      {"sender_ratchet_public", hex(sender_pub)},
      {"sender_chain_key", hex(sender_ck)},
      {"message_key", hex(step.message_key.view())},
      {"next_chain_key", hex(step.chain_key.view())},
      {"body_key", hex(body_key.key.view())},
      {"body_nonce", hex(body_key.nonce)},
      {"header_plaintext", hex(session::encode_header(header))},
      {"encrypted_header", hex(e.subspan(session::kEncryptedHeaderOffset, session::kEncryptedHeaderSize))},
      {"envelope", hex(e)},
  };
  v["opened"] = {
      {"payload", hex(opened.payload)},
      {"nr", receiver.chain.nr},
      {"receiving_chain_key", hex(receiver.chain.ckr.view())},
      {"skipped", skipped},
      {"state", hex(state.view())},
  };
  return v;
}

Json envelope_vectors() {
  const std::int64_t receive_ms = 1700000000000;
  Json list = Json::array();
  list.push_back(envelope_case({"first_of_chain", 0, 0, 0, 1}, receive_ms));
  list.push_back(envelope_case({"gap_skips_three_keys", 2, 5, 7, 2}, receive_ms));
  Json doc;
  doc["description"] =
      "backchannel envelope seal/open vectors (docs/protocol.md, Envelope; RatchetEncryptHE / RatchetDecryptHE). "
      "The sender's chain key at counter n is chain_key (the receiver's CKr at receiver_nr) stepped n - receiver_nr "
      "times; the envelope is header_nonce || HENCRYPT(header_key, header_plaintext) || body. The receiver holds "
      "DHr = sender_ratchet_public, CKr = chain_key, HKr = header_key, Nr = receiver_nr, Ns = PN = 0, no skipped "
      "keys, and the listed own keys; opened.state is its state encoding after the open.";
  doc["cases"] = list;
  return doc;
}

// --- session_start.json -------------------------------------------------------------------------

Json session_start_vectors() {
  const auto invitation_secret = fixed_secret("invitation secret");
  const auto inviter_seed = fixed_secret("inviter identity seed");
  const auto inviter_spk_secret = fixed_secret("inviter prekey");
  const auto inviter_ratchet_secret = fixed_secret("inviter first ratchet key");
  const auto invitee_seed = fixed_secret("invitee identity seed");
  const auto invitee_spk_secret = fixed_secret("invitee prekey");
  const auto ek_secret = fixed_secret("invitee ephemeral key");
  const auto r_secret = fixed_secret("invitee first ratchet key");
  // No envelope here skips a key, so the receive time (which stamps skipped keys) changes
  // nothing and is not part of the file.
  const std::int64_t receive_ms = 1700000000000;
  const auto reachability = session::encode_reachability({{"moscow.example:7400"}, {}});
  const auto payload_to_inviter = payload_pattern(3);
  const auto payload_to_invitee = payload_pattern(4);

  auto inviter_ik = signing_key(inviter_seed);
  auto inviter_spk = dh_key(inviter_spk_secret);
  auto invitee_ik = signing_key(invitee_seed);
  auto invitee_spk = dh_key(invitee_spk_secret);
  const auto inviter_sig = inviter_ik.sign(session::prekey_signed_message(inviter_spk.public_key()));
  const auto invitee_sig = invitee_ik.sign(session::prekey_signed_message(invitee_spk.public_key()));
  const auto ek = dh_key(ek_secret);
  const auto r = dh_key(r_secret);
  const auto inviter_ratchet = dh_key(inviter_ratchet_secret);

  const session::LocalKeys invitee_local{invitee_ik, invitee_spk, invitee_sig};
  const session::PeerKeys inviter_peer{inviter_ik.public_key(), inviter_spk.public_key(), inviter_sig};
  auto start = must(session::start_as_invitee_with_keys_for_testing(invitee_local, inviter_peer, invitation_secret,
                                                                    reachability, ek.copy(), r.copy()),
                    "start_as_invitee");

  const session::LocalKeys inviter_local{inviter_ik, inviter_spk, inviter_sig};
  const Bytes invitation_id = {0x01};
  const session::OpenInvitation open[] = {{invitation_id, invitation_secret}};
  auto accepted = must(session::accept_hello_with_key_for_testing(inviter_local, start.hello, open,
                                                                  inviter_ratchet.copy()),
                       "accept_hello");
  expect(accepted.invitee.identity == invitee_ik.public_key() && accepted.invitee.prekey == invitee_spk.public_key() &&
             accepted.invitee.prekey_signature == invitee_sig && accepted.reachability == reachability,
         "accepted HELLO contents");

  // The intermediate values docs/protocol.md "Session start" names, from the same functions
  // the start uses; they must agree with the states the start produced.
  const auto dh1 = agree(invitee_spk, inviter_spk.public_key());
  const auto dh2 = agree(ek, inviter_spk.public_key());
  expect(dh1 == agree(inviter_spk, invitee_spk.public_key()) && dh2 == agree(inviter_spk, ek.public_key()),
         "DH symmetry");
  const auto transcript = concat({invitee_ik.public_key(), inviter_ik.public_key(), invitee_spk.public_key(),
                                  inviter_spk.public_key(), ek.public_key()});
  const auto secrets = session::derive_start_secrets(invitation_secret, dh1, dh2, transcript);
  const auto hello_confirmation = session::hello_confirmation(secrets.root_key.view(), transcript);
  const auto hello_info_tail = concat({ek.public_key(), inviter_spk.public_key(), inviter_ik.public_key()});
  const auto hello_key = session::derive_hello_key(invitation_secret, dh2, hello_info_tail);
  const auto hello_plain = must(crypto::aead_open(hello_key.key.view(), hello_key.nonce,
                                                  ByteView(start.hello).subspan(session::kHelloEphemeralSize), {}),
                                "HELLO under the derived hello key");
  const auto associated_data = concat({invitee_ik.public_key(), inviter_ik.public_key()});
  const auto invitee_ratchet_dh = agree(r, inviter_spk.public_key());
  const auto inviter_ratchet_dh = agree(inviter_ratchet, r.public_key());

  const auto& ic = start.session.state().chain;
  const auto& rc = accepted.session.state().chain;
  expect(ic.hks.equals(secrets.initiator_header.view()) && ic.nhkr.equals(secrets.responder_header.view()),
         "invitee header keys are HKa and NHKb");
  expect(rc.hkr.equals(secrets.initiator_header.view()) && rc.hks.equals(secrets.responder_header.view()),
         "inviter header keys are HKa and NHKb");
  expect(ic.cks.equals(rc.ckr.view()), "invitee's sending chain is the inviter's receiving chain");
  const auto& session_ad = start.session.associated_data();
  expect(Bytes(session_ad.begin(), session_ad.end()) == associated_data &&
             session_ad == accepted.session.associated_data(),
         "associated data");
  const auto invitee_state = start.session.serialize();
  const auto inviter_state = accepted.session.serialize();
  Json invitee_chain = chain_json(ic);
  invitee_chain["encoded"] = hex(invitee_state.view());
  Json inviter_chain = chain_json(rc);
  inviter_chain["encoded"] = hex(inviter_state.view());

  // First envelope each way: the invitee on its first chain, the inviter on the chain its
  // start step opened (which makes the invitee take its first DH ratchet step).
  auto seal_one = [](session::Session& s, const Bytes& payload) {
    auto reservation = s.reserve(1);
    if (!s.commit_reservation(reservation)) fail("commit_reservation");
    return must(s.seal(payload), "seal");
  };
  const auto to_inviter = seal_one(start.session, payload_to_inviter);
  const auto to_invitee = seal_one(accepted.session, payload_to_invitee);
  const auto now = util::from_unix_ms(receive_ms);
  expect(must(accepted.session.open(to_inviter, now), "inviter opens") == payload_to_inviter, "payload to inviter");
  expect(must(start.session.open(to_invitee, now), "invitee opens") == payload_to_invitee, "payload to invitee");
  const auto& ic2 = start.session.state().chain;
  const auto& rc2 = accepted.session.state().chain;
  Json invitee_after = {{"dhr", hex(*ic2.dhr)},
                        {"hkr", hex(ic2.hkr.view())},
                        {"ckr", hex(ic2.ckr.view())},
                        {"nr", ic2.nr},
                        {"pn", ic2.pn},
                        {"hks", hex(ic2.hks.view())}};
  Json inviter_after = {{"ckr", hex(rc2.ckr.view())}, {"nr", rc2.nr}};

  Json doc;
  doc["description"] =
      "backchannel session start vectors (docs/protocol.md, Session start): X3DH-style start with the invitation "
      "secret, the HELLO envelope, both ratchet states after the start (state encoding with Ns = reservation "
      "ceiling = 0), and the first envelope each way. Identity keys are given as Ed25519 seeds, X25519 keys as "
      "secrets. The invitee's state after opening the inviter's envelope lists only what does not depend on the "
      "fresh ratchet key it generates then.";
  doc["inputs"] = {
      {"invitation_secret", hex(invitation_secret)},
      {"reachability", hex(reachability)},
      {"inviter", {{"identity_seed", hex(inviter_seed)},
                   {"prekey_secret", hex(inviter_spk_secret)},
                   {"first_ratchet_secret", hex(inviter_ratchet_secret)}}},
      {"invitee", {{"identity_seed", hex(invitee_seed)},
                   {"prekey_secret", hex(invitee_spk_secret)},
                   {"ephemeral_secret", hex(ek_secret)},
                   {"first_ratchet_secret", hex(r_secret)}}},
      {"payload_to_inviter", hex(payload_to_inviter)},
      {"payload_to_invitee", hex(payload_to_invitee)},
      {"header_nonce_to_inviter", hex(ByteView(to_inviter).first(session::kEncryptedHeaderOffset))},
      {"header_nonce_to_invitee", hex(ByteView(to_invitee).first(session::kEncryptedHeaderOffset))},
  };
  doc["derived"] = {
      {"inviter", {{"identity_public", hex(inviter_ik.public_key())},
                   {"prekey_public", hex(inviter_spk.public_key())},
                   {"prekey_signature", hex(inviter_sig)},
                   {"first_ratchet_public", hex(inviter_ratchet.public_key())}}},
      {"invitee", {{"identity_public", hex(invitee_ik.public_key())},
                   {"prekey_public", hex(invitee_spk.public_key())},
                   {"prekey_signature", hex(invitee_sig)},
                   {"ephemeral_public", hex(ek.public_key())},
                   {"first_ratchet_public", hex(r.public_key())}}},
      {"dh1", hex(dh1)},
      {"dh2", hex(dh2)},
      {"transcript", hex(transcript)},
      {"sk", hex(secrets.root_key.view())},
      {"hka", hex(secrets.initiator_header.view())},
      {"nhkb", hex(secrets.responder_header.view())},
      {"associated_data", hex(associated_data)},
      {"hello_confirmation", hex(hello_confirmation)},
      {"hello_key", hex(hello_key.key.view())},
      {"hello_nonce", hex(hello_key.nonce)},
      {"hello_plaintext", hex(hello_plain)},
      {"hello", hex(start.hello)},
      {"invitee_ratchet_dh", hex(invitee_ratchet_dh)},
      {"inviter_ratchet_dh", hex(inviter_ratchet_dh)},
      {"invitee_state", invitee_chain},
      {"inviter_state", inviter_chain},
      {"envelope_to_inviter", hex(to_inviter)},
      {"envelope_to_invitee", hex(to_invitee)},
  };
  doc["opened"] = {
      {"inviter", {{"payload", hex(payload_to_inviter)}, {"state", inviter_after}}},
      {"invitee", {{"payload", hex(payload_to_invitee)}, {"dh_ratchet_stepped", true}, {"state", invitee_after}}},
  };
  return doc;
}

// --- session_start_pq.json ----------------------------------------------------------------------

// The hybrid start (docs/protocol.md "Hybrid session start") with the keys of the classical
// vectors plus a deterministic ML-KEM-768 key (seeds d, z) and encapsulation (m). The ML-KEM
// values themselves (ek, ct, SS) are proven elsewhere (C2SP vectors, @noble/post-quantum); here
// they are inputs of the derivations a second implementation re-checks.
Json session_start_pq_vectors() {
  const auto invitation_secret = fixed_secret("pq invitation secret");
  const auto inviter_seed = fixed_secret("inviter identity seed");
  const auto inviter_spk_secret = fixed_secret("inviter prekey");
  const auto invitee_seed = fixed_secret("invitee identity seed");
  const auto invitee_spk_secret = fixed_secret("invitee prekey");
  const auto ek_secret = fixed_secret("pq invitee ephemeral key");
  const auto r_secret = fixed_secret("pq invitee first ratchet key");
  const auto kem_d = fixed_secret("pq inviter kem d");
  const auto kem_z = fixed_secret("pq inviter kem z");
  const auto kem_m = fixed_secret("pq invitee kem m");
  const auto reachability = session::encode_reachability({{"moscow.example:7400"}, {}});

  auto inviter_ik = signing_key(inviter_seed);
  auto inviter_spk = dh_key(inviter_spk_secret);
  auto invitee_ik = signing_key(invitee_seed);
  auto invitee_spk = dh_key(invitee_spk_secret);
  const auto inviter_sig = inviter_ik.sign(session::prekey_signed_message(inviter_spk.public_key()));
  const auto invitee_sig = invitee_ik.sign(session::prekey_signed_message(invitee_spk.public_key()));
  const auto ek = dh_key(ek_secret);
  const auto r = dh_key(r_secret);
  session::KemKey kem{crypto::mlkem::keygen_internal(kem_d, kem_z), {}};
  kem.signature = inviter_ik.sign(session::kem_key_signed_message(kem.pair.ek));
  const auto kem_hash = session::kem_key_hash(kem.pair.ek);
  const auto encapsulated = must(crypto::mlkem::encaps_internal(kem.pair.ek, kem_m), "encaps");

  const session::LocalKeys invitee_local{invitee_ik, invitee_spk, invitee_sig};
  session::PeerKeys inviter_peer{inviter_ik.public_key(), inviter_spk.public_key(), inviter_sig};
  inviter_peer.kem = session::KemCommitment{kem_hash, Bytes(kem.pair.ek.begin(), kem.pair.ek.end())};
  auto start = must(session::start_as_invitee_with_keys_for_testing(invitee_local, inviter_peer, invitation_secret,
                                                                    reachability, ek.copy(), r.copy(), kem_m),
                    "hybrid start_as_invitee");
  expect(start.post_quantum, "the start is hybrid");
  const session::LocalKeys inviter_local{inviter_ik, inviter_spk, inviter_sig, &kem};
  const Bytes invitation_id = {0x02};
  const session::OpenInvitation open[] = {{invitation_id, invitation_secret, kem_hash}};
  auto accepted = must(session::accept_hello_with_key_for_testing(inviter_local, start.hello, open,
                                                                  dh_key(fixed_secret("inviter first ratchet key"))),
                       "hybrid accept_hello");
  expect(accepted.post_quantum && accepted.reachability == reachability, "accepted hybrid HELLO");

  const auto dh1 = agree(invitee_spk, inviter_spk.public_key());
  const auto dh2 = agree(ek, inviter_spk.public_key());
  const auto ct_hash = crypto::sha3_256({encapsulated.ciphertext});
  const auto transcript = concat({invitee_ik.public_key(), inviter_ik.public_key(), invitee_spk.public_key(),
                                  inviter_spk.public_key(), ek.public_key(), kem_hash, ct_hash});
  const auto secrets = session::derive_hybrid_start_secrets(invitation_secret, dh1, dh2,
                                                            encapsulated.shared_secret.view(), transcript);
  const auto hello_confirmation = session::hello_confirmation(secrets.root_key.view(), transcript);
  const auto hello_info_tail = concat({ek.public_key(), inviter_spk.public_key(), inviter_ik.public_key()});
  const auto hello_key = session::derive_hybrid_hello_key(invitation_secret, dh2, encapsulated.shared_secret.view(),
                                                          hello_info_tail);
  const auto hello_plain = must(crypto::aead_open(hello_key.key.view(), hello_key.nonce,
                                                  ByteView(start.hello).subspan(session::kHybridHelloSealedOffset), {}),
                                "hybrid HELLO under the derived hello key");
  const auto& ic = start.session.state().chain;
  expect(ic.hks.equals(secrets.initiator_header.view()) && ic.nhkr.equals(secrets.responder_header.view()),
         "hybrid invitee header keys are HKa and NHKb");
  expect(accepted.session.state().chain.hkr.equals(secrets.initiator_header.view()), "hybrid inviter HKa");

  Json doc;
  doc["description"] =
      "backchannel hybrid session start vectors (docs/protocol.md, Hybrid session start): the X25519 parts as in "
      "session_start.json, the ML-KEM-768 encapsulation key, ciphertext and shared secret (from seeds d, z, m; "
      "ML-KEM itself is checked by tests/vectors/ml-kem), the derivations that mix them, and the hybrid HELLO.";
  doc["inputs"] = {
      {"invitation_secret", hex(invitation_secret)},
      {"reachability", hex(reachability)},
      {"inviter", {{"identity_seed", hex(inviter_seed)}, {"prekey_secret", hex(inviter_spk_secret)}}},
      {"invitee", {{"identity_seed", hex(invitee_seed)},
                   {"prekey_secret", hex(invitee_spk_secret)},
                   {"ephemeral_secret", hex(ek_secret)},
                   {"first_ratchet_secret", hex(r_secret)}}},
      {"kem", {{"d", hex(kem_d)},
               {"z", hex(kem_z)},
               {"m", hex(kem_m)},
               {"encapsulation_key", hex(kem.pair.ek)},
               {"ciphertext", hex(encapsulated.ciphertext)},
               {"shared_secret", hex(encapsulated.shared_secret.view())}}},
  };
  doc["derived"] = {
      {"kem_key_hash", hex(kem_hash)},
      {"kem_key_signature", hex(kem.signature)},
      {"ciphertext_hash", hex(ct_hash)},
      {"dh1", hex(dh1)},
      {"dh2", hex(dh2)},
      {"transcript", hex(transcript)},
      {"sk", hex(secrets.root_key.view())},
      {"hka", hex(secrets.initiator_header.view())},
      {"nhkb", hex(secrets.responder_header.view())},
      {"hello_confirmation", hex(hello_confirmation)},
      {"hello_key", hex(hello_key.key.view())},
      {"hello_nonce", hex(hello_key.nonce)},
      {"hello_plaintext", hex(hello_plain)},
      {"hello", hex(start.hello)},
  };
  return doc;
}

}  // namespace

int main(int argc, char** argv) {
  // Before anything initialises libsodium: from here on its randomness is the fixed stream.
  if (randombytes_set_implementation(&g_rng) != 0 || sodium_init() < 0) fail("cannot initialise libsodium");
  const std::string dir = argc > 1 ? argv[1] : BC_VECTORS_SOURCE_DIR;
  write(dir, "header_encryption.json", header_vectors());
  write(dir, "envelope.json", envelope_vectors());
  write(dir, "session_start.json", session_start_vectors());
  write(dir, "session_start_pq.json", session_start_pq_vectors());
  return 0;
}
