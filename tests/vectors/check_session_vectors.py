#!/usr/bin/env python3
"""Independent check of the session vectors (header_encryption.json, envelope.json,
session_start.json, session_start_pq.json in tests/vectors/).

Written from docs/protocol.md ("Session start", "Double Ratchet with header encryption",
"Envelope") and Signal's Double Ratchet spec (revision 1, section 4), not from the C++ that
generated the files: every derived value is recomputed here from the inputs the files list, with
Python's hmac/hashlib and PyNaCl (libsodium) primitives only. Every field of every file must be
used by some check, so a value nobody verifies cannot slip in.

Usage: check_session_vectors.py [VECTORS_DIR]   (default: this script's folder)
Exit status 0 when everything matches, 1 naming each mismatch, 2 when PyNaCl is missing.
"""

import hashlib
import hmac
import json
import pathlib
import struct
import sys

try:
    import nacl.bindings as nb
except ImportError:  # python3 may be a pyenv shim; Debian's python3-nacl is here
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        import nacl.bindings as nb
    except ImportError:
        print("check_session_vectors: PyNaCl is not importable (Debian's python3-nacl, scripts/deps)",
              file=sys.stderr)
        sys.exit(2)

# --- The spec, as docs/protocol.md states it ---------------------------------------------------

ENVELOPE_SIZE = 2048
PAYLOAD_SIZE = 1952
HEADER_PLAIN_SIZE = 40
TAG_SIZE = 16
HELLO_PLAIN_SIZE = 2000
MAX_HELLO_REACHABILITY = 1024
MAX_SKIP_PER_CHAIN = 1000
SKIPPED_KEY_LIFETIME_MS = 7 * 24 * 3600 * 1000

INFO_X3DH = b"backchannel/x3dh/v1"
INFO_HELLO = b"backchannel/hello/v1"
INFO_HELLO_CONFIRM = b"backchannel/hello/confirm/v1"
HELLO_VERSION = 2
INFO_PQXDH = b"backchannel/pqxdh/v1"
INFO_HELLO_PQ = b"backchannel/hello/pq/v1"
HYBRID_HELLO_VERSION = 3
HYBRID_HELLO_PLAIN_SIZE = 912
MAX_HYBRID_HELLO_REACHABILITY = 685
KEM_EK_SIZE, KEM_CT_SIZE = 1184, 1088
KEM_KEY_CONTEXT = b"backchannel kem key v1"
INFO_ROOT = b"backchannel/ratchet/root/v1"
INFO_MESSAGE = b"backchannel/ratchet/message/v1"
INFO_MESSAGE_MIXED = b"backchannel/ratchet/message/v2"
PREKEY_CONTEXT = b"backchannel prekey v1"


def hkdf_extract(salt, ikm):
    return hmac.new(salt, ikm, hashlib.sha256).digest()


def hkdf_expand(prk, info, length):
    """RFC 5869 section 2.3."""
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def hkdf(salt, ikm, info, length):
    return hkdf_expand(hkdf_extract(salt, ikm), info, length)


def kdf_rk(rk, dh_out):
    """KDF_RK_HE: new RK || CK || NHK."""
    out = hkdf(rk, dh_out, INFO_ROOT, 96)
    return out[:32], out[32:64], out[64:]


def kdf_ck(ck):
    """KDF_CK: (CK', MK)."""
    return hmac.new(ck, b"\x02", hashlib.sha256).digest(), hmac.new(ck, b"\x01", hashlib.sha256).digest()


def body_key(mk, header_nonce=None):
    """key || nonce = HKDF-Expand-SHA256(PRK = mk, info, 56), no Extract step. With a header
    nonce (sessions started by HELLO version 2): info = INFO_MESSAGE_MIXED || header nonce."""
    info = INFO_MESSAGE if header_nonce is None else INFO_MESSAGE_MIXED + header_nonce
    out = hkdf_expand(mk, info, 56)
    return out[:32], out[32:]


def aead_seal(key, nonce, plaintext, ad):
    return nb.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, nonce, key)


def aead_open(key, nonce, ciphertext, ad):
    """The plaintext, or None when it does not authenticate."""
    try:
        return nb.crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, ad, nonce, key)
    except Exception:  # PyNaCl raises CryptoError; any failure means "does not open"
        return None


def x25519_public(secret):
    return nb.crypto_scalarmult_base(secret)


def x25519(secret, public):
    out = nb.crypto_scalarmult(secret, public)
    if out == bytes(32):
        raise ValueError("X25519 with a low-order key")
    return out


def ed25519_from_seed(seed):
    public, secret = nb.crypto_sign_seed_keypair(seed)
    return public, secret


def ed25519_sign(secret, message):
    return nb.crypto_sign(message, secret)[:64]


def ed25519_verify(public, message, signature):
    try:
        nb.crypto_sign_open(signature + message, public)
        return True
    except Exception:
        return False


def header_plain(dh, pn, n):
    return dh + struct.pack(">II", pn, n)


def parse_reachability(blob):
    """docs/protocol.md "Reachability": count, then direct / relay entries; refuses trailing bytes."""
    pos = 0

    def take(k):
        nonlocal pos
        if pos + k > len(blob):
            raise ValueError("reachability truncated")
        part = blob[pos:pos + k]
        pos += k
        return part

    count = take(1)[0]
    entries = []
    for _ in range(count):
        kind = take(1)[0]
        if kind == 1:
            entries.append(("direct", take(take(1)[0]).decode("ascii")))
        elif kind == 2:
            url = take(take(1)[0])
            fingerprint = take(32)
            mailbox = take(take(1)[0])
            capability = take(take(1)[0])
            entries.append(("relay", url, fingerprint, mailbox, capability))
        else:
            raise ValueError(f"unknown reachability entry kind {kind}")
    if pos != len(blob):
        raise ValueError("trailing bytes after reachability")
    return entries


def encode_state(s):
    """State encoding, version 1 (docs/protocol.md). s: dict of the spec's state variables, None
    for absent keys; chains: [(header key, [(n, expiry_ms, mk), ...])]."""
    order = ["cks", "ckr", "hks", "hkr", "nhks", "nhkr"]
    flags = (1 if s["dhr"] is not None else 0)
    for bit, name in enumerate(order, start=1):
        if s[name] is not None:
            flags |= 1 << bit
    if s.get("mixed"):
        flags |= 1 << 7
    out = b"BCSS" + bytes([1, flags]) + s["dhs_secret"]
    if s["dhr"] is not None:
        out += s["dhr"]
    out += s["rk"]
    for name in order:
        if s[name] is not None:
            out += s[name]
    out += struct.pack(">III", s["ns"], s["nr"], s["pn"]) + s["ad"]
    out += struct.pack(">H", len(s["chains"]))
    for hk, keys in s["chains"]:
        out += hk + struct.pack(">H", len(keys))
        for n, expiry, mk in keys:
            out += struct.pack(">IQ", n, expiry) + mk
    return out


def skip_keys(ck, nr, until, hk, receive_ms):
    """SkipMessageKeysHE with this protocol's window: of counters nr .. until-1 only the newest
    MAX_SKIP_PER_CHAIN keys are kept, each expiring 7 days after the receive. Returns (ck, kept)."""
    kept = []
    while nr < until:
        ck, mk = kdf_ck(ck)
        if until - nr <= MAX_SKIP_PER_CHAIN:
            kept.append((nr, receive_ms + SKIPPED_KEY_LIFETIME_MS, mk))
        nr += 1
    return ck, kept


# --- Reading the files strictly -------------------------------------------------------------------


class Vectors:
    """One JSON file; remembers which leaves the checks read, and every mismatch."""

    def __init__(self, path, failures):
        self.name = path.name
        self.doc = json.loads(path.read_text())
        self.failures = failures
        self.read = set()

    def get(self, obj, path):
        """obj[k1][k2]... for path 'k1.k2' (list indexes as numbers); records the leaf as read."""
        node = obj
        for part in path.split("."):
            node = node[int(part)] if isinstance(node, list) else node[part]
        return node

    def raw(self, prefix, obj, key):
        full = f"{prefix}.{key}" if prefix else key
        self.read.add(full)
        return self.get(obj, key)

    def hexval(self, prefix, obj, key, size=None):
        value = self.raw(prefix, obj, key)
        if value is None:
            return None
        data = bytes.fromhex(value)
        if size is not None and len(data) != size:
            self.fail(f"{prefix}.{key}" if prefix else key, f"is {len(data)} bytes, the spec says {size}")
        return data

    def fail(self, where, what):
        self.failures.append(f"{self.name}: {where}: {what}")

    def give_up(self, prefix):
        """The values under prefix cannot be checked after an earlier failure (already reported)."""
        self.read.add(prefix)

    def expect(self, prefix, obj, key, expected):
        """The file's value at key must equal what the spec gives."""
        full = f"{prefix}.{key}" if prefix else key
        actual = self.raw(prefix, obj, key)
        if isinstance(expected, (bytes, bytearray)):
            expected = expected.hex()
            actual = actual.lower() if isinstance(actual, str) else actual
        if actual != expected:
            where = ""
            if isinstance(actual, str) and isinstance(expected, str):
                first = next((i for i, (x, y) in enumerate(zip(actual, expected)) if x != y),
                             min(len(actual), len(expected)))
                where = f" (first difference at byte {first // 2})"
            self.fail(full, f"file has {short(actual)}, spec gives {short(expected)}{where}")

    def unread_fields(self):
        leaves = []

        def walk(node, path):
            if isinstance(node, dict):
                for k, v in node.items():
                    walk(v, f"{path}.{k}" if path else k)
            elif isinstance(node, list) and node and all(isinstance(x, (dict, list)) for x in node):
                for i, v in enumerate(node):
                    walk(v, f"{path}.{i}")
            else:
                leaves.append(path)

        walk(self.doc, "")
        for leaf in leaves:
            covered = any(leaf == r or leaf.startswith(r + ".") for r in self.read)
            if not covered and leaf != "description":
                self.fail(leaf, "no check reads this field (unknown field, or a check is missing)")


def short(v):
    s = json.dumps(v) if not isinstance(v, str) else v
    return s if len(s) <= 40 else f"{s[:16]}...{s[-16:]} ({len(s)} chars)"


# --- header_encryption.json -----------------------------------------------------------------------


def check_headers(v):
    for i, _ in enumerate(v.doc["cases"]):
        p = f"cases.{i}"
        case = v.get(v.doc, p)
        v.raw(p, case, "name")
        hk = v.hexval(p, case, "header_key", 32)
        nonce = v.hexval(p, case, "nonce", 24)
        dh = v.hexval(p, case, "header.dh_public", 32)
        pn = v.raw(p, case, "header.pn")
        n = v.raw(p, case, "header.n")
        plain = header_plain(dh, pn, n)
        v.expect(p, case, "plaintext", plain)
        v.expect(p, case, "ciphertext", aead_seal(hk, nonce, plain, b""))
        opened = aead_open(hk, nonce, v.hexval(p, case, "ciphertext"), b"")
        if opened != plain:
            v.fail(f"{p}.ciphertext", "does not open under header_key to the header")


# --- envelope.json --------------------------------------------------------------------------------


def check_envelopes(v):
    for i, _ in enumerate(v.doc["cases"]):
        p = f"cases.{i}"
        case = v.get(v.doc, p)
        v.raw(p, case, "name")
        ad = v.hexval(p, case, "inputs.associated_data", 64)
        dhs_secret = v.hexval(p, case, "inputs.sender_ratchet_secret", 32)
        hk = v.hexval(p, case, "inputs.header_key", 32)
        ck0 = v.hexval(p, case, "inputs.chain_key", 32)
        nr0 = v.raw(p, case, "inputs.receiver_nr")
        n = v.raw(p, case, "inputs.n")
        pn = v.raw(p, case, "inputs.pn")
        payload = v.hexval(p, case, "inputs.payload", PAYLOAD_SIZE)
        header_nonce = v.hexval(p, case, "inputs.header_nonce", 24)
        receive_ms = v.raw(p, case, "inputs.receive_time_ms")
        rcv = {k: v.hexval(p, case, f"inputs.receiver.{k}", 32)
               for k in ["ratchet_secret", "root_key", "sending_chain_key", "sending_header_key",
                         "next_sending_header_key", "next_receiving_header_key"]}

        # Sender: RatchetEncryptHE at counter n.
        dhs_pub = x25519_public(dhs_secret)
        v.expect(p, case, "derived.sender_ratchet_public", dhs_pub)
        ck = ck0
        for _ in range(nr0, n):
            ck, _mk = kdf_ck(ck)
        v.expect(p, case, "derived.sender_chain_key", ck)
        next_ck, mk = kdf_ck(ck)
        v.expect(p, case, "derived.message_key", mk)
        v.expect(p, case, "derived.next_chain_key", next_ck)
        key, nonce = body_key(mk)
        v.expect(p, case, "derived.body_key", key)
        v.expect(p, case, "derived.body_nonce", nonce)
        plain = header_plain(dhs_pub, pn, n)
        v.expect(p, case, "derived.header_plaintext", plain)
        enc_header = aead_seal(hk, header_nonce, plain, b"")
        v.expect(p, case, "derived.encrypted_header", enc_header)
        head = header_nonce + enc_header
        envelope = head + aead_seal(key, nonce, payload, ad + head)
        if len(envelope) != ENVELOPE_SIZE:
            v.fail(p, f"envelope would be {len(envelope)} bytes")
        v.expect(p, case, "derived.envelope", envelope)

        # Receiver: RatchetDecryptHE of the file's envelope, in the receiving chain (HKr).
        env = v.hexval(p, case, "derived.envelope", ENVELOPE_SIZE)
        header = aead_open(hk, env[:24], env[24:80], b"")
        if header is None:
            v.fail(f"{p}.derived.envelope", "header does not open under HKr")
            v.give_up(f"{p}.opened")
            continue
        got_n = struct.unpack(">I", header[36:40])[0]
        if got_n < nr0:
            v.fail(f"{p}.derived.envelope", "header N below the receiver's Nr: a duplicate")
            v.give_up(f"{p}.opened")
            continue
        ckr, kept = skip_keys(ck0, nr0, got_n, hk, receive_ms)
        ckr, rmk = kdf_ck(ckr)
        opened = aead_open(*body_key(rmk), env[80:], ad + env[:80])
        if opened is None:
            v.fail(f"{p}.derived.envelope", "body does not open under the receiver's message key")
            v.give_up(f"{p}.opened")
            continue
        v.expect(p, case, "opened.payload", opened)
        if opened != payload:
            v.fail(f"{p}.opened.payload", "differs from inputs.payload")
        v.expect(p, case, "opened.nr", got_n + 1)
        v.expect(p, case, "opened.receiving_chain_key", ckr)
        v.expect(p, case, "opened.skipped",
                 [{"n": k, "message_key": m.hex(), "expires_at_ms": e} for k, e, m in kept])
        state = {
            "dhs_secret": rcv["ratchet_secret"], "dhr": dhs_pub, "rk": rcv["root_key"],
            "cks": rcv["sending_chain_key"], "ckr": ckr, "hks": rcv["sending_header_key"], "hkr": hk,
            "nhks": rcv["next_sending_header_key"], "nhkr": rcv["next_receiving_header_key"],
            "ns": 0, "nr": got_n + 1, "pn": 0, "ad": ad,
            "chains": [(hk, kept)] if kept else [],
        }
        v.expect(p, case, "opened.state", encode_state(state))


# --- session_start.json ---------------------------------------------------------------------------


def seal_envelope(state, payload, header_nonce):
    """RatchetEncryptHE on a state dict (advances cks and ns)."""
    state["cks"], mk = kdf_ck(state["cks"])
    head = header_nonce + aead_seal(state["hks"], header_nonce,
                                    header_plain(state["dhs_pub"], state["pn"], state["ns"]), b"")
    state["ns"] += 1
    key, nonce = body_key(mk, header_nonce if state.get("mixed") else None)
    return head + aead_seal(key, nonce, payload, state["ad"] + head)


def check_session_start(v):
    d = v.doc
    s = v.hexval("", d, "inputs.invitation_secret", 32)
    reach = v.hexval("", d, "inputs.reachability")
    try:
        parse_reachability(reach)
    except ValueError as e:
        v.fail("inputs.reachability", f"not a reachability encoding: {e}")
    if len(reach) > MAX_HELLO_REACHABILITY:
        v.fail("inputs.reachability", "longer than HELLO allows")
    r_seed = v.hexval("", d, "inputs.inviter.identity_seed", 32)
    r_spk = v.hexval("", d, "inputs.inviter.prekey_secret", 32)
    r_ratchet = v.hexval("", d, "inputs.inviter.first_ratchet_secret", 32)
    e_seed = v.hexval("", d, "inputs.invitee.identity_seed", 32)
    e_spk = v.hexval("", d, "inputs.invitee.prekey_secret", 32)
    e_ek = v.hexval("", d, "inputs.invitee.ephemeral_secret", 32)
    e_r = v.hexval("", d, "inputs.invitee.first_ratchet_secret", 32)
    payload_to_inviter = v.hexval("", d, "inputs.payload_to_inviter", PAYLOAD_SIZE)
    payload_to_invitee = v.hexval("", d, "inputs.payload_to_invitee", PAYLOAD_SIZE)
    nonce_to_inviter = v.hexval("", d, "inputs.header_nonce_to_inviter", 24)
    nonce_to_invitee = v.hexval("", d, "inputs.header_nonce_to_invitee", 24)

    # Identity: keys and prekey signatures.
    ik_r, ik_r_secret = ed25519_from_seed(r_seed)
    ik_e, ik_e_secret = ed25519_from_seed(e_seed)
    spk_r, spk_e = x25519_public(r_spk), x25519_public(e_spk)
    ek, r_pub, r2_pub = x25519_public(e_ek), x25519_public(e_r), x25519_public(r_ratchet)
    sig_r = ed25519_sign(ik_r_secret, PREKEY_CONTEXT + spk_r)
    sig_e = ed25519_sign(ik_e_secret, PREKEY_CONTEXT + spk_e)
    for key, value in [("inviter.identity_public", ik_r), ("inviter.prekey_public", spk_r),
                       ("inviter.prekey_signature", sig_r), ("inviter.first_ratchet_public", r2_pub),
                       ("invitee.identity_public", ik_e), ("invitee.prekey_public", spk_e),
                       ("invitee.prekey_signature", sig_e), ("invitee.ephemeral_public", ek),
                       ("invitee.first_ratchet_public", r_pub)]:
        v.expect("derived", d["derived"], key, value)

    # X3DH-style secrets.
    dh1 = x25519(e_spk, spk_r)
    if dh1 != x25519(r_spk, spk_e):
        v.fail("derived.dh1", "the two sides' DH1 differ")
    dh2 = x25519(e_ek, spk_r)
    transcript = ik_e + ik_r + spk_e + spk_r + ek
    okm = hkdf(s, b"\xff" * 32 + dh1 + dh2, INFO_X3DH + transcript, 96)
    sk, hka, nhkb = okm[:32], okm[32:64], okm[64:]
    ad = ik_e + ik_r
    for key, value in [("dh1", dh1), ("dh2", dh2), ("transcript", transcript), ("sk", sk), ("hka", hka),
                       ("nhkb", nhkb), ("associated_data", ad)]:
        v.expect("derived", d["derived"], key, value)

    # HELLO as the invitee builds it, with its key-confirmation tag (HELLO version 2).
    kc = hkdf(b"", sk, INFO_HELLO_CONFIRM + transcript, 32)
    confirmation = hmac.new(kc, transcript, hashlib.sha256).digest()
    v.expect("derived", d["derived"], "hello_confirmation", confirmation)
    hk = hkdf(s, dh2, INFO_HELLO + ek + spk_r + ik_r, 56)
    hello_key, hello_nonce = hk[:32], hk[32:]
    plain = (bytes([HELLO_VERSION]) + ik_e + spk_e + sig_e + r_pub + confirmation
             + struct.pack(">H", len(reach)) + reach)
    plain += bytes(HELLO_PLAIN_SIZE - len(plain))
    hello = ek + aead_seal(hello_key, hello_nonce, plain, b"")
    v.expect("derived", d["derived"], "hello_key", hello_key)
    v.expect("derived", d["derived"], "hello_nonce", hello_nonce)
    v.expect("derived", d["derived"], "hello_plaintext", plain)
    v.expect("derived", d["derived"], "hello", hello)
    if len(hello) != ENVELOPE_SIZE:
        v.fail("derived.hello", f"would be {len(hello)} bytes")

    # HELLO as the inviter opens it: the file's bytes, with the inviter's secrets only.
    file_hello = v.hexval("derived", d["derived"], "hello", ENVELOPE_SIZE)
    f_ek = file_hello[:32]
    k = hkdf(s, x25519(r_spk, f_ek), INFO_HELLO + f_ek + spk_r + ik_r, 56)
    opened = aead_open(k[:32], k[32:], file_hello[32:], b"")
    if opened is None:
        v.fail("derived.hello", "does not open as the inviter computes its key")
    else:
        f_ik, f_spk, f_sig, f_r = opened[1:33], opened[33:65], opened[65:129], opened[129:161]
        f_tag = opened[161:193]
        f_len = struct.unpack(">H", opened[193:195])[0]
        if (opened[0] != HELLO_VERSION or f_ik != ik_e or f_spk != spk_e or f_r != r_pub
                or opened[195:195 + f_len] != reach or any(opened[195 + f_len:])):
            v.fail("derived.hello", "opens to other fields than the inputs")
        # The inviter's key confirmation: SK from its own prekey secret and the HELLO's keys.
        f_dh1 = x25519(r_spk, f_spk)
        f_t = f_ik + ik_r + f_spk + spk_r + f_ek
        f_sk = hkdf(s, b"\xff" * 32 + f_dh1 + x25519(r_spk, f_ek), INFO_X3DH + f_t, 96)[:32]
        f_kc = hkdf(b"", f_sk, INFO_HELLO_CONFIRM + f_t, 32)
        if not hmac.compare_digest(f_tag, hmac.new(f_kc, f_t, hashlib.sha256).digest()):
            v.fail("derived.hello", "its key-confirmation tag does not verify for the inviter")
        if not ed25519_verify(f_ik, PREKEY_CONTEXT + f_spk, f_sig):
            v.fail("derived.hello", "carries a prekey signature that does not verify")

    v.expect("derived", d["derived"], "invitee_ratchet_dh", x25519(e_r, spk_r))
    v.expect("derived", d["derived"], "inviter_ratchet_dh", x25519(r_ratchet, r_pub))

    # RatchetInitAliceHE(SK, SPK_inviter, HKa, NHKb) with R as the first key pair.
    rk, cks, nhks = kdf_rk(sk, x25519(e_r, spk_r))
    alice = {"dhs_secret": e_r, "dhs_pub": r_pub, "dhr": spk_r, "rk": rk, "cks": cks, "ckr": None,
             "hks": hka, "hkr": None, "nhks": nhks, "nhkr": nhkb, "ns": 0, "nr": 0, "pn": 0, "ad": ad, "mixed": True,
             "chains": []}
    # RatchetInitBobHE(SK, SPK_inviter pair, HKa, NHKb), then DHRatchetHE for header (R.pub, PN 0).
    bob = {"dhs_secret": r_spk, "dhs_pub": spk_r, "dhr": None, "rk": sk, "cks": None, "ckr": None,
           "hks": None, "hkr": None, "nhks": nhkb, "nhkr": hka, "ns": 0, "nr": 0, "pn": 0, "ad": ad, "mixed": True,
           "chains": []}
    dh_ratchet(bob, r_pub, r_ratchet)
    for who, st in [("invitee_state", alice), ("inviter_state", bob)]:
        p = f"derived.{who}"
        node = v.get(d, p)
        v.expect(p, node, "dhs_public", st["dhs_pub"])
        for key in ["dhr", "rk", "cks", "ckr", "hks", "hkr", "nhks", "nhkr"]:
            v.expect(p, node, key, st[key])
        for key in ["ns", "nr", "pn"]:
            v.expect(p, node, key, st[key])
        # A fresh session serialises with its reservation ceiling (Ns) at 0.
        v.expect(p, node, "encoded", encode_state(st))

    # The first envelope each way, with the recorded header nonces.
    to_inviter = seal_envelope(alice, payload_to_inviter, nonce_to_inviter)
    to_invitee = seal_envelope(bob, payload_to_invitee, nonce_to_invitee)
    v.expect("derived", d["derived"], "envelope_to_inviter", to_inviter)
    v.expect("derived", d["derived"], "envelope_to_invitee", to_invitee)

    # The inviter opens the file's envelope in its receiving chain (HKr = HKa).
    env = v.hexval("derived", d["derived"], "envelope_to_inviter", ENVELOPE_SIZE)
    p = "opened.inviter"
    if open_in_chain(v, bob, env, p) is not None:
        v.expect(p, d["opened"]["inviter"], "state.ckr", bob["ckr"])
        v.expect(p, d["opened"]["inviter"], "state.nr", bob["nr"])
    # The invitee has no receiving chain yet: the inviter's envelope opens under NHKr, a DH step.
    env = v.hexval("derived", d["derived"], "envelope_to_invitee", ENVELOPE_SIZE)
    p = "opened.invitee"
    node = d["opened"]["invitee"]
    in_chain = alice["hkr"] is not None and aead_open(alice["hkr"], env[:24], env[24:80], b"") is not None
    header = None if in_chain else aead_open(alice["nhkr"], env[:24], env[24:80], b"")
    v.expect(p, node, "dh_ratchet_stepped", header is not None)
    if header is None:
        v.fail("derived.envelope_to_invitee", "header does not open under the invitee's NHKr")
        v.give_up(p)
        return
    their, h_pn, h_n = header[:32], *struct.unpack(">II", header[32:])
    if h_pn != 0:  # PN counts the inviter's previous chain, which had no messages
        v.fail("derived.envelope_to_invitee", f"header PN is {h_pn}, not 0")
    dh_ratchet(alice, their, None)
    ckr, _kept = skip_keys(alice["ckr"], 0, h_n, alice["hkr"], 0)
    ckr, mk = kdf_ck(ckr)
    opened = aead_open(*body_key(mk, env[:24]), env[80:], ad + env[:80])
    v.expect(p, node, "payload", opened if opened is not None else b"")
    if opened != payload_to_invitee:
        v.fail(f"{p}.payload", "differs from inputs.payload_to_invitee")
    for key, value in [("dhr", alice["dhr"]), ("hkr", alice["hkr"]), ("ckr", ckr), ("nr", h_n + 1),
                       ("pn", alice["pn"]), ("hks", alice["hks"])]:
        v.expect(p, node, f"state.{key}", value)


def check_session_start_pq(v):
    """The hybrid start. ML-KEM-768 itself is not recomputed here (no Python implementation is
    installed; tests/vectors/ml-kem and the @noble/post-quantum differential prove it): ek, ct and
    SS are inputs, and everything derived from them is recomputed."""
    d = v.doc
    s = v.hexval("", d, "inputs.invitation_secret", 32)
    reach = v.hexval("", d, "inputs.reachability")
    try:
        parse_reachability(reach)
    except ValueError as e:
        v.fail("inputs.reachability", f"not a reachability encoding: {e}")
    if len(reach) > MAX_HYBRID_HELLO_REACHABILITY:
        v.fail("inputs.reachability", "longer than a hybrid HELLO allows")
    r_seed = v.hexval("", d, "inputs.inviter.identity_seed", 32)
    r_spk = v.hexval("", d, "inputs.inviter.prekey_secret", 32)
    e_seed = v.hexval("", d, "inputs.invitee.identity_seed", 32)
    e_spk = v.hexval("", d, "inputs.invitee.prekey_secret", 32)
    e_ek = v.hexval("", d, "inputs.invitee.ephemeral_secret", 32)
    e_r = v.hexval("", d, "inputs.invitee.first_ratchet_secret", 32)
    for seed in ("d", "z", "m"):  # the ML-KEM seeds: recorded so the C++ side can redo ek, ct, SS
        v.hexval("", d, f"inputs.kem.{seed}", 32)
    kem_ek = v.hexval("", d, "inputs.kem.encapsulation_key", KEM_EK_SIZE)
    kem_ct = v.hexval("", d, "inputs.kem.ciphertext", KEM_CT_SIZE)
    kem_ss = v.hexval("", d, "inputs.kem.shared_secret", 32)

    ik_r, ik_r_secret = ed25519_from_seed(r_seed)
    ik_e, ik_e_secret = ed25519_from_seed(e_seed)
    spk_r, spk_e = x25519_public(r_spk), x25519_public(e_spk)
    ek, r_pub = x25519_public(e_ek), x25519_public(e_r)
    sig_e = ed25519_sign(ik_e_secret, PREKEY_CONTEXT + spk_e)
    ek_hash = hashlib.sha3_256(kem_ek).digest()
    ct_hash = hashlib.sha3_256(kem_ct).digest()
    v.expect("derived", d["derived"], "kem_key_hash", ek_hash)
    v.expect("derived", d["derived"], "ciphertext_hash", ct_hash)
    v.expect("derived", d["derived"], "kem_key_signature", ed25519_sign(ik_r_secret, KEM_KEY_CONTEXT + kem_ek))

    # SK: 0xFF*32 || DH1 || DH2 || SS under the invitation secret, info pqxdh || T_pq.
    dh1 = x25519(e_spk, spk_r)
    dh2 = x25519(e_ek, spk_r)
    transcript = ik_e + ik_r + spk_e + spk_r + ek + ek_hash + ct_hash
    okm = hkdf(s, b"\xff" * 32 + dh1 + dh2 + kem_ss, INFO_PQXDH + transcript, 96)
    sk, hka, nhkb = okm[:32], okm[32:64], okm[64:]
    for key, value in [("dh1", dh1), ("dh2", dh2), ("transcript", transcript), ("sk", sk), ("hka", hka),
                       ("nhkb", nhkb)]:
        v.expect("derived", d["derived"], key, value)
    classical = hkdf(s, b"\xff" * 32 + dh1 + dh2, INFO_X3DH + transcript, 96)[:32]
    if classical == sk:
        v.fail("derived.sk", "does not depend on the KEM secret")

    kc = hkdf(b"", sk, INFO_HELLO_CONFIRM + transcript, 32)
    confirmation = hmac.new(kc, transcript, hashlib.sha256).digest()
    v.expect("derived", d["derived"], "hello_confirmation", confirmation)
    hk = hkdf(s, dh2 + kem_ss, INFO_HELLO_PQ + ek + spk_r + ik_r, 56)
    hello_key, hello_nonce = hk[:32], hk[32:]
    plain = (bytes([HYBRID_HELLO_VERSION]) + ik_e + spk_e + sig_e + r_pub + confirmation + ek_hash
             + struct.pack(">H", len(reach)) + reach)
    plain += bytes(HYBRID_HELLO_PLAIN_SIZE - len(plain))
    hello = ek + kem_ct + aead_seal(hello_key, hello_nonce, plain, b"")
    v.expect("derived", d["derived"], "hello_key", hello_key)
    v.expect("derived", d["derived"], "hello_nonce", hello_nonce)
    v.expect("derived", d["derived"], "hello_plaintext", plain)
    v.expect("derived", d["derived"], "hello", hello)
    if len(hello) != ENVELOPE_SIZE:
        v.fail("derived.hello", f"would be {len(hello)} bytes")


def dh_ratchet(st, their_pub, next_secret):
    """DHRatchetHE (Signal's spec, section 4). next_secret None: the new sending half is left out
    (the key a receiver generates then is random, so the file does not list what depends on it)."""
    st["pn"] = st["ns"]
    st["ns"] = st["nr"] = 0
    st["hks"], st["hkr"] = st["nhks"], st["nhkr"]
    st["dhr"] = their_pub
    st["rk"], st["ckr"], st["nhkr"] = kdf_rk(st["rk"], x25519(st["dhs_secret"], their_pub))
    if next_secret is None:
        return
    st["dhs_secret"], st["dhs_pub"] = next_secret, x25519_public(next_secret)
    st["rk"], st["cks"], st["nhks"] = kdf_rk(st["rk"], x25519(next_secret, their_pub))


def open_in_chain(v, st, env, where):
    """RatchetDecryptHE for an envelope of the current receiving chain; advances st."""
    header = aead_open(st["hkr"], env[:24], env[24:80], b"")
    if header is None:
        v.fail(where, "header does not open under HKr")
        v.give_up(where)
        return None
    n = struct.unpack(">I", header[36:40])[0]
    ckr, _kept = skip_keys(st["ckr"], st["nr"], n, st["hkr"], 0)
    st["ckr"], mk = kdf_ck(ckr)
    st["nr"] = n + 1
    opened = aead_open(*body_key(mk, env[:24] if st.get("mixed") else None), env[80:], st["ad"] + env[:80])
    v.expect(where, v.doc["opened"]["inviter"], "payload", opened if opened is not None else b"")
    if opened != v.hexval("", v.doc, "inputs.payload_to_inviter"):
        v.fail(f"{where}.payload", "differs from inputs.payload_to_inviter")
    return opened


# --- Main -----------------------------------------------------------------------------------------

CHECKS = [("header_encryption.json", check_headers), ("envelope.json", check_envelopes),
          ("session_start.json", check_session_start), ("session_start_pq.json", check_session_start_pq)]


def main():
    folder = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent
    failures = []
    for name, check in CHECKS:
        before = len(failures)
        try:
            v = Vectors(folder / name, failures)
            check(v)
            v.unread_fields()
        except Exception as e:  # a corrupted file must be reported, not crash the check
            failures.append(f"{name}: cannot check: {type(e).__name__}: {e}")
        status = "ok" if len(failures) == before else f"{len(failures) - before} mismatch(es)"
        print(f"{name}: {status}")
    for f in failures:
        print(f"MISMATCH {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
