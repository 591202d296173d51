#!/usr/bin/env python3
"""An independent checker of backchannel transcript records, written from docs/protocol.md
("Transcript record", "Frames", "Safety number") alone, in Python with PyNaCl (Ed25519) and
hashlib (BLAKE2b). It shares no code with the C++ checker (`backchannel transcript check`), so
the tests that run both on the same records (tests/cli/test_transcript_tamper.py) catch the
docs and the code drifting apart.

    transcript_check.py RECORD            check one record
    transcript_check.py RECORD RECORD2    check the two parties' records of one link jointly
    transcript_check.py --disclosure DISCLOSURE RECORD
                                          check a disclosure of one message against a record

Prints one JSON object: {"ok": true, ...account...} or {"ok": false, "error": {"code", "message"}},
with the error codes of the protocol document (bad_format, checksum, bad_signature,
unsupported_version, limit). Exit 0 when the record checks (and the two agree), else 3.
"""
import hashlib
import json
import re
import struct
import sys

try:
    import nacl  # noqa: F401
except ImportError:  # python3 may be a pyenv shim; Debian's python3-nacl is here
    sys.path.append("/usr/lib/python3/dist-packages")
from nacl.exceptions import BadSignatureError  # noqa: E402
from nacl.signing import VerifyKey  # noqa: E402

FORMAT = "backchannel transcript record"
MAX_BYTES = 256 << 20
MAX_DEPTH = 4
MAX_MS = 2**63 - 1
NAME_RE = re.compile(r"^[a-z0-9._-]{1,64}$")
PRECEDENCE = {"flash": 0, "immediate": 1, "priority": 2, "routine": 3}
MAX_RECEIPT_ENTRIES = 32
MAX_LISTED_CONFLICTS = 64


class Refused(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def b2b(data, size=32):
    return hashlib.blake2b(data, digest_size=size).digest()


def u64(v):
    return struct.pack(">Q", v)


def verify(key, message, signature):
    try:
        VerifyKey(key).verify(message, signature)
        return True
    except (BadSignatureError, ValueError):
        return False


# ---- parsing ------------------------------------------------------------------------------

def depth_ok(text):
    depth, in_string, i = 0, False, 0
    while i < len(text):
        c = text[i]
        if in_string:
            if c == "\\":
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return False
        elif c in "]}":
            depth -= 1
        i += 1
    return True


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise Refused("bad_format", "an object has the same key twice")
    return dict(pairs)


def is_uint(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def keys_exactly(obj, path, keys):
    if not isinstance(obj, dict):
        raise Refused("bad_format", f"{path}: expected an object")
    for k in keys:
        if k not in obj:
            raise Refused("bad_format", f'{path}: missing "{k}"')
    for k in obj:
        if k not in keys:
            raise Refused("bad_format", f'{path}: unknown key "{k}"')


def hex_bytes(v, path, size):
    if not isinstance(v, str) or len(v) != 2 * size or not re.fullmatch(r"[0-9a-fA-F]*", v):
        raise Refused("bad_format", f"{path}: expected {2 * size} hex digits")
    return bytes.fromhex(v)


def ms(v, path):
    if not is_uint(v) or v > MAX_MS:
        raise Refused("bad_format", f"{path}: expected unix milliseconds")
    return v


def parse_receipt_frame(v, path):
    """A RECEIPT frame (docs/protocol.md "Frames"): exactly one, nothing after it."""
    if not isinstance(v, str) or len(v) % 2 or not re.fullmatch(r"[0-9a-fA-F]*", v):
        raise Refused("bad_format", f"{path}: expected the hex of a RECEIPT frame")
    b = bytes.fromhex(v)
    if len(b) < 43 + 64 or b[0] != 0x03:
        raise Refused("bad_format", f"{path}: not exactly one RECEIPT frame")
    kind, seq, head = b[1], struct.unpack(">Q", b[2:10])[0], b[10:42]
    if kind not in (1, 2, 3, 4):
        raise Refused("bad_format", f"{path}: unknown receipt kind {kind}")
    timed = kind in (3, 4)  # kinds 3 and 4 carry at_ms (u64) after the head
    at = 42 + (8 if timed else 0)
    if len(b) < at + 1 + 64:
        raise Refused("bad_format", f"{path}: not exactly one RECEIPT frame")
    at_ms = struct.unpack(">Q", b[42:50])[0] if timed else None
    count = b[at]
    if count > MAX_RECEIPT_ENTRIES:
        raise Refused("bad_format", f"{path}: more than {MAX_RECEIPT_ENTRIES} entries")
    if len(b) != at + 1 + 40 * count + 64:
        raise Refused("bad_format", f"{path}: not exactly one RECEIPT frame")
    if (kind in (1, 3)) != (count >= 1):
        raise Refused("bad_format", f"{path}: prompt receipts list entries, head receipts none")
    entries = []
    for i in range(count):
        off = at + 1 + 40 * i
        e_seq = struct.unpack(">Q", b[off:off + 8])[0]
        if entries and e_seq <= entries[-1][0]:
            raise Refused("bad_format", f"{path}: entry seqs not strictly ascending")
        entries.append((e_seq, b[off + 8:off + 40]))
    end = at + 1 + 40 * count
    return {"bytes": b, "kind": kind, "seq": seq, "head": head, "at_ms": at_ms, "entries": entries,
            "signed_fields": b[1:end], "signature": b[end:]}


def parse_party(v, path):
    keys_exactly(v, path, ["name", "identity_key"])
    if not isinstance(v["name"], str) or not NAME_RE.match(v["name"]):
        raise Refused("bad_format", f"{path}.name: not a party name")
    return {"name": v["name"], "key": hex_bytes(v["identity_key"], f"{path}.identity_key", 32)}


def parse_direction(v, path):
    keys_exactly(v, path, ["entries", "receipts"])
    if not isinstance(v["entries"], list) or not isinstance(v["receipts"], list):
        raise Refused("bad_format", f"{path}: entries and receipts are arrays")
    entries = []
    for i, e in enumerate(v["entries"]):
        p = f"{path}.entries[{i}]"
        keys_exactly(e, p, ["seq", "precedence", "sent_at_ms", "body_hash"])
        if not is_uint(e["seq"]) or e["seq"] == 0 or e["seq"] > 2**64 - 1:
            raise Refused("bad_format", f"{p}.seq: expected an integer >= 1")
        if e["precedence"] not in PRECEDENCE:
            raise Refused("bad_format", f"{p}.precedence")
        entries.append({"seq": e["seq"], "precedence": PRECEDENCE[e["precedence"]],
                        "sent_at_ms": ms(e["sent_at_ms"], f"{p}.sent_at_ms"),
                        "body_hash": hex_bytes(e["body_hash"], f"{p}.body_hash", 32)})
    receipts = [parse_receipt_frame(r, f"{path}.receipts[{i}]") for i, r in enumerate(v["receipts"])]
    return {"entries": entries, "receipts": receipts}


def parse_end_direction(v, path):
    keys_exactly(v, path, ["entries", "head", "receipts"])
    if not is_uint(v["entries"]) or v["entries"] > MAX_MS:
        raise Refused("bad_format", f"{path}.entries")
    if not is_uint(v["receipts"]) or v["receipts"] > 2**32 - 1:
        raise Refused("bad_format", f"{path}.receipts")
    return {"entries": v["entries"], "head": hex_bytes(v["head"], f"{path}.head", 32), "receipts": v["receipts"]}


def parse_record(raw):
    if len(raw) > MAX_BYTES:
        raise Refused("limit", "larger than 256 MiB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("bad_format", "not valid JSON (UTF-8)")
    if not depth_ok(text):
        raise Refused("bad_format", "nested deeper than a transcript record is")
    try:
        doc = json.loads(text, object_pairs_hook=no_duplicates,
                         parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    except ValueError:
        raise Refused("bad_format", "not valid JSON")
    if not isinstance(doc, dict):
        raise Refused("bad_format", "expected an object")
    if doc.get("format") != FORMAT:
        raise Refused("bad_format", "format")
    version = doc.get("version")
    if not is_uint(version) or version not in (1, 2):
        raise Refused("unsupported_version", "version is not 1 or 2")
    rec = {"version": version}
    if version == 1:
        keys_exactly(doc, "(top)", ["format", "version", "exported_at_ms", "exporter", "peer", "outgoing", "incoming"])
        rec["as_of_ms"] = ms(doc["exported_at_ms"], "exported_at_ms")
    else:
        keys_exactly(doc, "(top)", ["format", "version", "exporter", "peer", "outgoing", "incoming", "end"])
        end = doc["end"]
        keys_exactly(end, "end", ["as_of_ms", "outgoing", "incoming", "signature"])
        rec["end"] = {"as_of_ms": ms(end["as_of_ms"], "end.as_of_ms"),
                      "outgoing": parse_end_direction(end["outgoing"], "end.outgoing"),
                      "incoming": parse_end_direction(end["incoming"], "end.incoming"),
                      "signature": hex_bytes(end["signature"], "end.signature", 64)}
        rec["as_of_ms"] = rec["end"]["as_of_ms"]
    rec["exporter"] = parse_party(doc["exporter"], "exporter")
    rec["peer"] = parse_party(doc["peer"], "peer")
    rec["outgoing"] = parse_direction(doc["outgoing"], "outgoing")
    rec["incoming"] = parse_direction(doc["incoming"], "incoming")
    return rec


# ---- checking -----------------------------------------------------------------------------

def chain(entries, name):
    heads = [bytes(32)]
    for i, e in enumerate(entries):
        if e["seq"] != i + 1:
            raise Refused("bad_format", f"{name}: entry {i + 1} has seq {e['seq']}")
        heads.append(b2b(b"backchannel transcript v1" + heads[-1] + u64(e["seq"]) + bytes([e["precedence"]])
                         + u64(e["sent_at_ms"]) + e["body_hash"]))
    return heads


def receipt_signed_bytes(r, signer, recipient):
    context = signer + recipient
    return b"backchannel receipt v1" + struct.pack(">H", len(context)) + context + r["signed_fields"]


def check_direction(rec, d, name, sender, receiver):
    heads = chain(d["entries"], name)
    frames = [r["bytes"] for r in d["receipts"]]
    if rec["version"] == 2:
        for i in range(1, len(frames)):
            if frames[i] <= frames[i - 1]:
                raise Refused("bad_format", f"{name} receipt {i + 1} out of order or repeated")
    elif len(set(frames)) != len(frames):
        raise Refused("bad_format", f"{name}: a receipt repeated")
    signed_up_to, prompted = 0, set()
    for i, r in enumerate(d["receipts"]):
        label = f"{name} receipt {i + 1}"
        if not verify(receiver["key"], receipt_signed_bytes(r, receiver["key"], sender["key"]), r["signature"]):
            raise Refused("bad_signature", f"{label}: signature")
        if r["seq"] >= len(heads):
            raise Refused("checksum", f"{label}: seq beyond the chain")
        if heads[r["seq"]] != r["head"]:
            raise Refused("checksum", f"{label}: head differs")
        for seq, h in r["entries"]:
            if seq == 0 or seq > len(d["entries"]) or d["entries"][seq - 1]["body_hash"] != h:
                raise Refused("checksum", f"{label}: prompt entry {seq} differs")
            prompted.add(seq)
        signed_up_to = max(signed_up_to, r["seq"])
    n = len(d["entries"])
    signed = set(range(1, signed_up_to + 1)) | prompted
    # Receive times: for each seq, the earliest time a timed receipt covering it states.
    earliest = {}
    for r in d["receipts"]:
        if r["at_ms"] is None:
            continue
        t = min(r["at_ms"], 2**63 - 2)
        for s in list(range(1, r["seq"] + 1)) + [e[0] for e in r["entries"]]:
            earliest[s] = min(earliest.get(s, t), t)
    received_by = []
    for s in sorted(earliest):
        if received_by and received_by[-1][1] + 1 == s and received_by[-1][2] == earliest[s]:
            received_by[-1][1] = s
        else:
            received_by.append([s, s, earliest[s]])
    return {"received_by": received_by, "prefix_end": n, "head": heads[-1].hex(), "receipts": len(d["receipts"]), "signed_up_to": signed_up_to,
            "receiver_signed": ranges(sorted(signed)),
            "receiver_unsigned": ranges([s for s in range(1, n + 1) if s not in signed]),
            "sender_signed_up_to": 0, "_heads": heads}


def ranges(seqs):
    out = []
    for s in seqs:
        if out and out[-1][1] + 1 == s:
            out[-1][1] = s
        else:
            out.append([s, s])
    return out


def end_signed_bytes(rec):
    def name(p):
        b = p["name"].encode()
        return bytes([len(b)]) + b + p["key"]

    out = b"backchannel record end v1" + name(rec["exporter"]) + name(rec["peer"]) + u64(rec["end"]["as_of_ms"])
    for d in ("outgoing", "incoming"):
        e = rec["end"][d]
        digest = b2b(b"backchannel record receipts v1" +
                     b"".join(struct.pack(">H", len(r["bytes"])) + r["bytes"] for r in rec[d]["receipts"]))
        out += u64(e["entries"]) + e["head"] + struct.pack(">I", e["receipts"]) + digest
    return out


def check_record(rec):
    exp, peer = rec["exporter"], rec["peer"]
    if exp["key"] == peer["key"]:
        raise Refused("bad_format", "both parties have the same identity key")
    out = check_direction(rec, rec["outgoing"], "outgoing", exp, peer)
    inc = check_direction(rec, rec["incoming"], "incoming", peer, exp)
    if inc["signed_up_to"] != inc["prefix_end"]:
        raise Refused("checksum", "incoming: the exporter's receipts do not cover every entry")
    if rec["version"] == 2:
        for name, d in (("outgoing", out), ("incoming", inc)):
            e = rec["end"][name]
            if e["entries"] != d["prefix_end"] or e["head"].hex() != d["head"] or e["receipts"] != d["receipts"]:
                raise Refused("checksum", f"end: {name} differs from the record")
        if not verify(exp["key"], end_signed_bytes(rec), rec["end"]["signature"]):
            raise Refused("bad_signature", "end: signature")
        out["sender_signed_up_to"] = out["prefix_end"]
    return {"version": rec["version"], "end_signed": rec["version"] == 2, "as_of_ms": rec["as_of_ms"],
            "peer_signed": out["receipts"] > 0,
            "peer_covers_outgoing": out["receipts"] > 0 and not out["receiver_unsigned"],
            "outgoing": out, "incoming": inc}


def signed_heads(rec, direction, receiver):
    heads = [(r["seq"], r["head"], receiver["key"]) for r in rec[direction]["receipts"]]
    if rec["version"] == 2:
        e = rec["end"][direction]
        heads.append((e["entries"], e["head"], rec["exporter"]["key"]))
    return heads


def compare(sender_rec, receiver_rec):
    s, r = sender_rec["outgoing"]["entries"], receiver_rec["incoming"]["entries"]
    agreed = 0
    while agreed < min(len(s), len(r)) and s[agreed] == r[agreed]:
        agreed += 1
    result = {"sender": sender_rec["exporter"]["name"], "agreed": agreed, "parted_at": 0, "conflicts_total": 0,
              "same_signer_pairs": 0, "left_out_by_sender": 0}
    if sender_rec["version"] == 2:
        result["left_out_by_sender"] = sum(1 for e in r[len(s):] if e["sent_at_ms"] <= sender_rec["end"]["as_of_ms"])
    if agreed == min(len(s), len(r)):
        return result
    k = agreed + 1
    result["parted_at"] = k
    a = [h for h in signed_heads(sender_rec, "outgoing", receiver_rec["exporter"]) if h[0] >= k]
    b = [h for h in signed_heads(receiver_rec, "incoming", receiver_rec["exporter"]) if h[0] >= k]
    result["conflicts_total"] = len(a) * len(b)
    result["same_signer_pairs"] = sum(1 for x in a for y in b if x[2] == y[2])
    return result


def check_joint(first, second):
    try:
        one = check_record(first)
    except Refused as e:
        raise Refused(e.code, "the first record does not check: " + e.message)
    try:
        two = check_record(second)
    except Refused as e:
        raise Refused(e.code, "the second record does not check: " + e.message)
    if first["exporter"]["key"] != second["peer"]["key"] or first["peer"]["key"] != second["exporter"]["key"]:
        raise Refused("bad_format", "not the two ends of one link")
    dirs = [compare(first, second), compare(second, first)]
    return {"records": [one, two], "directions": dirs, "agree": all(d["parted_at"] == 0 for d in dirs)}


def parse_disclosure(raw):
    try:
        doc = json.loads(raw.decode("utf-8"), object_pairs_hook=no_duplicates)
    except (UnicodeDecodeError, ValueError):
        raise Refused("bad_format", "disclosure: not valid JSON")
    keys_exactly(doc, "disclosure", ["format", "version", "sender", "receiver", "seq", "precedence", "sent_at_ms",
                                     "body"])
    if doc["format"] != "backchannel disclosure":
        raise Refused("bad_format", "disclosure: format")
    if not is_uint(doc["version"]) or doc["version"] != 1:
        raise Refused("unsupported_version", "disclosure: version")
    if not is_uint(doc["seq"]) or doc["seq"] == 0 or doc["precedence"] not in PRECEDENCE:
        raise Refused("bad_format", "disclosure: seq or precedence")
    body = doc["body"]
    if not isinstance(body, str) or len(body) % 2 or not re.fullmatch(r"[0-9a-fA-F]*", body):
        raise Refused("bad_format", "disclosure: body")
    return {"sender": parse_party(doc["sender"], "sender"), "receiver": parse_party(doc["receiver"], "receiver"),
            "seq": doc["seq"], "precedence": PRECEDENCE[doc["precedence"]],
            "sent_at_ms": ms(doc["sent_at_ms"], "sent_at_ms"), "body": bytes.fromhex(body)}


def decode_body(body):
    """docs/protocol.md "Hashes and bodies": optional 0x03 + 32-byte salt, then text or file."""
    salted = body[:1] == b"\x03"
    inner = body[33:] if salted else body
    if salted and len(body) < 34:
        raise Refused("truncated", "body: truncated salt")
    if inner[:1] == b"\x01":
        return {"salted": salted, "kind": "text", "text": inner[1:].decode("utf-8", "replace")}
    if inner[:1] == b"\x02" and len(inner) >= 2 and len(inner) >= 2 + inner[1]:
        return {"salted": salted, "kind": "file", "name": inner[2:2 + inner[1]].decode("utf-8", "replace"),
                "size": len(inner) - 2 - inner[1]}
    raise Refused("bad_format", "body: unknown kind")


def check_disclosure(d, rec):
    summary = check_record(rec)
    if d["sender"]["key"] == rec["exporter"]["key"] and d["receiver"]["key"] == rec["peer"]["key"]:
        name = "outgoing"
    elif d["sender"]["key"] == rec["peer"]["key"] and d["receiver"]["key"] == rec["exporter"]["key"]:
        name = "incoming"
    else:
        raise Refused("bad_format", "the disclosure's parties are not the record's")
    entries = rec[name]["entries"]
    if d["seq"] > len(entries):
        raise Refused("checksum", "the record does not hold that seq")
    e = entries[d["seq"] - 1]
    if (e["body_hash"] != b2b(d["body"]) or e["precedence"] != d["precedence"]
            or e["sent_at_ms"] != d["sent_at_ms"]):
        raise Refused("checksum", "the disclosure differs from the record's entry")
    s = summary[name]
    signed = any(a <= d["seq"] <= b for a, b in s["receiver_signed"])
    return dict(decode_body(d["body"]), direction=name, receiver_signed=signed,
                sender_signed=d["seq"] <= s["sender_signed_up_to"])


def public(summary):
    """The account without the recomputed heads kept for internal use."""
    if isinstance(summary, dict):
        return {k: public(v) for k, v in summary.items() if not k.startswith("_")}
    if isinstance(summary, list):
        return [public(v) for v in summary]
    return summary


def main(argv):
    if len(argv) not in (2, 3, 4) or (len(argv) == 4 and argv[1] != "--disclosure"):
        print(__doc__, file=sys.stderr)
        return 2
    if len(argv) == 4:
        try:
            with open(argv[2], "rb") as f:
                d = parse_disclosure(f.read())
            with open(argv[3], "rb") as f:
                result = dict(check_disclosure(d, parse_record(f.read())), ok=True)
        except Refused as e:
            result = {"ok": False, "error": {"code": e.code, "message": e.message}}
        print(json.dumps(result, indent=2))
        return 0 if result["ok"] else 3
    try:
        records = []
        for path in argv[1:]:
            with open(path, "rb") as f:
                records.append(parse_record(f.read()))
        if len(records) == 1:
            result = dict(public(check_record(records[0])), ok=True)
        else:
            j = public(check_joint(*records))
            result = dict(j, ok=j["agree"])
            if not j["agree"]:
                result["error"] = {"code": "checksum", "message": "the two records disagree"}
    except Refused as e:
        result = {"ok": False, "error": {"code": e.code, "message": e.message}}
    print(json.dumps(result, indent=2))
    return 0 if result["ok"] else 3


if __name__ == "__main__":
    sys.exit(main(sys.argv))
