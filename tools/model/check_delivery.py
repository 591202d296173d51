#!/usr/bin/env python3
"""Checks the Promela model of the delivery protocol (tools/model/delivery.pml) with Spin.

Four runs, each in a temporary directory (spin -a writes pan.c there, gcc builds pan):
  safety    assertions P1-P4 and deadlocks, every fault unbounded      -> must find no error
  liveness  ltl `live` under weak fairness, faults bounded             -> must find no error
  mutation  the safety run with -DMUT_NO_DUP_CHECK (the receiver's     -> must find the P1
            duplicate checks dropped)                                     violation
  mutation  the liveness run with -DMUT_NO_RETRANSMIT (each chunk sent -> must find an
            once)                                                         acceptance cycle
With --more, also each of the two duplicate checks dropped alone (informative: the code has both,
so dropping one is expected to be survived) and the liveness run with larger fault budgets.

Prints one line per run (errors, states stored, depth, memory, CPU seconds) and exits non-zero
when a run does not give what it must. Spin is Debian's `spin` package, installed by scripts/deps.
"""
import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = os.path.join(HERE, "delivery.pml")

# The assertion the mutation must break: P1, at most once (delivery.pml, inline deliver(s), as
# pan prints it with s substituted).
P1_ASSERTION = re.compile(r"^\(\(b_deliv&\(1<<\([1-3]-1\)\)\)==0\)")


class Run:
    def __init__(self, name, spin_defines, gcc_defines, pan_args, expect_errors):
        self.name = name
        self.spin_defines = spin_defines
        self.gcc_defines = gcc_defines
        self.pan_args = pan_args
        # False: none; True: the P1 assertion violated; "cycle": an acceptance cycle (liveness)
        self.expect_errors = expect_errors


def child_cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_cmd(cmd, cwd):
    return subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, check=False)


def parse(out):
    def grab(pattern, cast=float):
        m = re.search(pattern, out, re.MULTILINE)
        return cast(m.group(1)) if m else None
    return {
        "errors": grab(r"errors:\s+(\d+)", int),
        "stored": grab(r"^\s*([\d.e+]+) states, stored", float),
        "depth": grab(r"depth reached (\d+)", int),
        "memory": grab(r"^\s*([\d.]+)\s+total actual memory usage", float),
        "depth_too_small": "max search depth too small" in out,
        "assertion": grab(r"assertion violated (.*)$", str),
        "cycle": "acceptance cycle" in out or "non-progress cycle" in out,
    }


def check(run, workdir, spin, cc, verbose):
    os.makedirs(workdir)
    shutil.copy(MODEL, os.path.join(workdir, "delivery.pml"))
    cpu0, t0 = child_cpu_seconds(), time.monotonic()
    steps = [
        [spin] + [f"-D{d}" for d in run.spin_defines] + ["-a", "delivery.pml"],
        [cc, "-O1", "-w", "-o", "pan"] + [f"-D{d}" for d in run.gcc_defines] + ["pan.c"],
        ["./pan"] + run.pan_args,
    ]
    out = ""
    for cmd in steps:
        p = run_cmd(cmd, workdir)
        out = p.stdout
        if verbose:
            print("$ " + " ".join(cmd) + "\n" + out)
        if cmd[0] != "./pan" and p.returncode != 0:
            return False, f"{run.name}: `{' '.join(cmd)}` failed:\n{out}"
    cpu, wall = child_cpu_seconds() - cpu0, time.monotonic() - t0
    r = parse(out)
    if r["errors"] is None:
        return False, f"{run.name}: no 'errors:' line in pan's output:\n{out}"
    figures = (f"errors {r['errors']}, states stored {r['stored']:.0f}, depth {r['depth']}, "
               f"memory {r['memory']} MB, {cpu:.1f} s CPU ({wall:.1f} s wall)")
    if r["depth_too_small"]:
        return False, f"{run.name}: search depth limit reached, the search was not exhaustive ({figures})"
    if not run.expect_errors:
        if r["errors"] != 0:
            what = r["assertion"] or ("an acceptance cycle" if r["cycle"] else "an error")
            return False, (f"{run.name}: FAILED, spin found {what} ({figures}); replay the trail in "
                           f"{workdir} with: spin -t -p delivery.pml\n{out}")
        return True, f"{run.name}: ok, {figures}"
    if r["errors"] == 0:
        return False, f"{run.name}: FAILED, the mutation was not caught ({figures})"
    if run.expect_errors == "cycle":
        if not r["cycle"] or r["assertion"] is not None:
            return False, f"{run.name}: FAILED, expected an acceptance cycle ({figures})\n{out}"
        return True, f"{run.name}: ok, caught: acceptance cycle, `live` never holds ({figures})"
    if r["assertion"] is None or not P1_ASSERTION.match(r["assertion"].replace(" ", "")):
        return False, (f"{run.name}: FAILED, spin found an error but not the at-most-once violation "
                       f"expected: {r['assertion']} ({figures})\n{out}")
    return True, f"{run.name}: ok, caught: assertion violated {r['assertion'].strip()} ({figures})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--more", action="store_true", help="also the informative runs")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("-v", "--verbose", action="store_true", help="print spin's and pan's output")
    args = ap.parse_args()

    spin = shutil.which("spin")
    if spin is None:
        print("check_delivery: `spin` not found. It is Debian's package `spin`; scripts/deps "
              "installs it (run scripts/deps as root, or: apt-get install spin).", file=sys.stderr)
        return 1
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        print("check_delivery: no C compiler (gcc) for Spin's verifier; scripts/deps installs "
              "build-essential.", file=sys.stderr)
        return 1

    depth = ["-m200000"]
    safety = ["SAFETY", "NOCLAIM"]
    runs = [
        Run("safety", [], safety, depth, False),
        Run("liveness", ["LIVENESS"], ["NFAIR=8"], depth + ["-a", "-f"], False),
        Run("mutation no-dup-check", ["MUT_NO_DUP_CHECK"], safety, depth, True),
        Run("mutation no-retransmit", ["LIVENESS", "MUT_NO_RETRANSMIT"], ["NFAIR=8"],
            depth + ["-a", "-f"], "cycle"),
    ]
    if args.more:
        runs += [
            Run("only the accept check dropped", ["NO_ACCEPT_DUP_CHECK"], safety, depth, False),
            Run("only the rule's check dropped", ["NO_RULE_DUP_CHECK"], safety, depth, False),
            Run("liveness, 4 faults",
                ["LIVENESS", "MAX_FAULTS=4"], ["NFAIR=8"], depth + ["-a", "-f"],
                False),
        ]

    tmp = tempfile.mkdtemp(prefix="bc-model-")
    ok = True
    try:
        for i, run in enumerate(runs):
            good, line = check(run, os.path.join(tmp, f"run{i}"), spin, cc, args.verbose)
            print(line, flush=True)
            ok = ok and good
    finally:
        if args.keep or not ok:
            print(f"check_delivery: work kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("check_delivery: " + ("all runs as expected" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
