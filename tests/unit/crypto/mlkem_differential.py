#!/usr/bin/env python3
"""Differential test of our ML-KEM-768 (tests/mlkem_tool) against an independent one,
@noble/post-quantum from the npm registry (tools/noble, installed by scripts/deps), on random
seeds, in both directions:

  1. KeyGen from the same 64-byte seed d || z gives the same ek and dk on both sides (FIPS 203
     KeyGen, which the C2SP vectors do not cover: they target the draft's seed expansion);
  2. our Encaps with a given m equals theirs (ciphertext and key);
  3. our keys and ciphertexts decapsulate to the same key with their Decaps, and theirs (with a
     message they draw) with ours;
  4. Decaps of a random, invalid ciphertext gives the same implicit-rejection key on both sides;
  5. both refuse an ek with a coefficient >= q (the modulus check), and our Decaps refuses a dk
     whose stored H(ek) was altered.

Each side runs once per phase with all lines of the phase on stdin (a process per seed would
cost more than the crypto). Exits 1 with the first differing seed on any mismatch."""
import argparse
import os
import random
import subprocess
import sys


def run(cmd, lines, cwd=None):
    p = subprocess.run(cmd, input="\n".join(lines) + "\n", capture_output=True, text=True, cwd=cwd, timeout=600)
    if p.returncode != 0:
        sys.exit(f"{cmd[0]} exited {p.returncode}: {p.stderr.strip()[:500]}")
    out = p.stdout.split("\n")[:-1]
    if len(out) != len(lines):
        sys.exit(f"{cmd[0]} answered {len(out)} lines to {len(lines)}")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", required=True, help="path of tests/mlkem_tool")
    ap.add_argument("--noble-dir", required=True, help="tools/noble with node_modules installed")
    ap.add_argument("--count", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=None, help="for a reproducible run (default: random)")
    a = ap.parse_args()
    script = os.path.abspath(os.path.join(a.noble_dir, "mlkem768.mjs"))
    if not os.path.isdir(os.path.join(a.noble_dir, "node_modules", "@noble", "post-quantum")):
        sys.exit(f"{a.noble_dir}/node_modules has no @noble/post-quantum: run scripts/deps")
    seed = a.seed if a.seed is not None else random.SystemRandom().randrange(2**32)
    print(f"differential: {a.count} cases, seed {seed}", flush=True)
    rng = random.Random(seed)
    rnd = lambda n: rng.randbytes(n).hex()
    cases = [dict(d=rnd(32), z=rnd(32), m=rnd(32), bad=rnd(1088)) for _ in range(a.count)]
    ours = lambda lines: run([a.ours], lines)
    noble = lambda lines: run(["node", script], lines, cwd=a.noble_dir)

    def fail(i, what):
        c = cases[i]
        sys.exit(f"MISMATCH (run seed {seed}, case {i}, d={c['d']} z={c['z']} m={c['m']}): {what}")

    # 1. KeyGen.
    kg = [f"keygen {c['d']} {c['z']}" for c in cases]
    ko, kn = ours(kg), noble(kg)
    for i, (o, n) in enumerate(zip(ko, kn)):
        if o != n:
            fail(i, "KeyGen differs")
    keys = [o.split() for o in ko]  # [ek, dk], equal on both sides

    # 2.-3. Encaps with m on both; each side's ciphertext decapsulated by the other.
    en = [f"encaps {ek} {c['m']}" for (ek, _), c in zip(keys, cases)]
    eo, e2 = ours(en), noble(en)
    for i, (o, n) in enumerate(zip(eo, e2)):
        if o != n:
            fail(i, "Encaps(ek, m) differs")
    theirs_random = noble([f"encaps {ek}" for ek, _ in keys])  # m drawn by noble
    dec_by_noble = noble([f"decaps {dk} {o.split()[0]}" for (_, dk), o in zip(keys, eo)])
    dec_by_ours = ours([f"decaps {dk} {t.split()[0]}" for (_, dk), t in zip(keys, theirs_random)])
    for i in range(a.count):
        if dec_by_noble[i] != eo[i].split()[1]:
            fail(i, "noble's Decaps of our ciphertext gives another key")
        if dec_by_ours[i] != theirs_random[i].split()[1]:
            fail(i, "our Decaps of noble's ciphertext gives another key")

    # 4. Implicit rejection.
    rj = [f"decaps {dk} {c['bad']}" for (_, dk), c in zip(keys, cases)]
    ro, rn = ours(rj), noble(rj)
    for i, (o, n) in enumerate(zip(ro, rn)):
        if o != n or o == "refused":
            fail(i, f"rejection key differs or refused ({o[:16]} vs {n[:16]})")

    # 5. Refusals: a coefficient set to q..4095 in ek; a dk with its H(ek) altered.
    bad_eks, bad_dks = [], []
    for (ek, dk), c in zip(keys[:200], cases):
        b = bytearray(bytes.fromhex(ek))
        at = 3 * rng.randrange(384)  # two 12-bit coefficients per 3 bytes: set the first one
        v = rng.randrange(3329, 4096)
        b[at] = v & 0xFF
        b[at + 1] = (b[at + 1] & 0xF0) | (v >> 8)
        bad_eks.append(f"encaps {b.hex()} {c['m']}")
        k = bytearray(bytes.fromhex(dk))
        k[1152 + 1184 + rng.randrange(32)] ^= 1 << rng.randrange(8)
        bad_dks.append(f"decaps {k.hex()} {c['bad']}")
    for i, (o, n) in enumerate(zip(ours(bad_eks), noble(bad_eks))):
        if o != "refused" or n != "refused":
            fail(i, f"ek with a coefficient >= q not refused (ours: {o[:16]}, noble: {n[:16]})")
    for i, o in enumerate(ours(bad_dks)):
        if o != "refused":
            fail(i, "our Decaps accepted a dk whose H(ek) was altered")
    print(f"differential: {a.count} KeyGen, {2 * a.count} Encaps, {3 * a.count} Decaps and "
          f"{len(bad_eks) + len(bad_dks)} refusals agree with @noble/post-quantum")


if __name__ == "__main__":
    main()
