#!/usr/bin/env python3
"""Runs every benchmark of scripts/bench and prints one table (also written as Markdown).

Each row compares backchannel with a baseline measured in the same run on the same machine:

  1. session envelopes sealed / opened per second   vs raw XChaCha20-Poly1305 (session_bench)
  2. one-message latency on loopback, p50 and p99   vs TLS 1.3 ping-pong + 2 durable SQLite
                                                       commits per message (tls_sqlite_baseline)
  3. sustained 1 KiB throughput, durable both ends  vs mosquitto QoS 1 with persistence
  4. relay: 2 KiB durable puts to a subscriber       vs NATS JetStream (file storage), msgs/s
     and one-message latency; the relay's commit window 2 ms against 0
  5. node-to-node latency, relay 1 of 3 channels     vs the same link with all three up
     SIGKILLed
  6. ML-KEM-768 keygen / encaps / decaps per second  vs X25519 (libsodium): key pair, ephemeral
                                                       key pair + DH, DH (mlkem_bench)
  7. one message through the interface, submit ->    vs the TLS 1.3 + SQLite floor (budget_bench.py);
     consumer, and its latency budget by stage          the budget joins both nodes' trace stamps
  8. FLASH behind 100 MB of ROUTINE files            vs the floor's p99 + one envelope's time
  9. the relay's durable puts (part 4)               vs Redis Streams, appendfsync always

See bench/README.md for what each number includes. Every process started here is killed on
exit, also on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import datetime
import getpass
import json
import os
import queue
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench_common import (  # noqa: F401  (shared with relay_nats.py)
    ROOT, _children, _on_signal, free_port, log, now_ms, percentile, spawn, stop, stop_all, wait_for)
from relay_nats import Relay, bench_relay_vs_nats
import e2e_report

# Every part, in the order they run; only a run of all of them writes docs/benchmarks.md.
ALL_PARTS = ("session", "mlkem", "latency", "throughput", "api", "budget", "flash", "relay", "channels", "health",
             "cover", "memory", "load")


# ---------------------------------------------------------------------------------------------
# 1. Session seal/open vs raw AEAD


def bench_session(bin_dir: Path, reps: int) -> dict:
    log(f"session_bench: {reps} repetitions, medians")
    out = subprocess.run(
        [str(bin_dir / "session_bench"), "--benchmark_format=json",
         "--benchmark_filter=BM_SessionSeal|BM_SessionOpen|BM_RawAeadSeal|BM_RawAeadOpen|BM_HostileEnvelope",
         f"--benchmark_repetitions={reps}", "--benchmark_report_aggregates_only=true",
         "--benchmark_min_time=0.3"],
        check=True, capture_output=True, text=True).stdout
    doc = json.loads(out)
    medians = {}
    cvs = {}
    hostile_ms = {}  # per-envelope bound -> median CPU ms of one hostile envelope
    for b in doc["benchmarks"]:
        name = b["run_name"]
        if name.startswith("BM_HostileEnvelope/"):
            if b.get("aggregate_name") == "median":
                hostile_ms[int(name.split("/")[1])] = b["cpu_time"]  # unit: ms
            continue
        if b.get("aggregate_name") == "median":
            medians[name] = b["items_per_second"]
        if b.get("aggregate_name") == "cv":
            cvs[name] = b.get("cpu_time", 0.0)  # coefficient of variation, as a fraction
    return {"medians": medians, "cv": cvs, "hostile_ms": hostile_ms, "context": doc.get("context", {})}


def bench_mlkem(bin_dir: Path, reps: int) -> dict:
    log(f"mlkem_bench: {reps} repetitions, medians")
    out = subprocess.run(
        [str(bin_dir / "mlkem_bench"), "--benchmark_format=json", f"--benchmark_repetitions={reps}",
         "--benchmark_report_aggregates_only=true", "--benchmark_min_time=0.3"],
        check=True, capture_output=True, text=True).stdout
    doc = json.loads(out)
    medians, cvs = {}, {}
    for b in doc["benchmarks"]:
        if b.get("aggregate_name") == "median":
            medians[b["run_name"]] = b["items_per_second"]
        if b.get("aggregate_name") == "cv":
            cvs[b["run_name"]] = b.get("cpu_time", 0.0)
    return {"medians": medians, "cv": cvs}


def bench_pq(bin_dir: Path, reps: int) -> dict:
    """Session start with and without ML-KEM, and the wire bytes of one PQ ratchet step."""
    log(f"session_bench (session start, PQ ratchet step): {reps} repetitions, medians")
    out = subprocess.run(
        [str(bin_dir / "session_bench"), "--benchmark_format=json",
         "--benchmark_filter=BM_SessionStart|BM_PqStepBytes", f"--benchmark_repetitions={reps}",
         "--benchmark_report_aggregates_only=true", "--benchmark_min_time=0.3"],
        check=True, capture_output=True, text=True).stdout
    doc = json.loads(out)
    starts, steps = {}, {}
    for b in doc["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        name = b["run_name"]
        if name.startswith("BM_SessionStart/"):
            starts["hybrid" if name.endswith("/1") else "classical"] = b["items_per_second"]
        elif name.startswith("BM_PqStepBytes/"):
            room = int(name.split("/")[1])
            steps[room] = {"bytes": b["bytes_per_step"], "envelopes": b["envelopes_per_step"]}
    return {"starts_per_s": starts, "step": steps}


# ---------------------------------------------------------------------------------------------
# Two live nodes


class Node:
    def __init__(self, bc: Path, home: Path, name: str):
        self.bc, self.home, self.name = bc, home, name
        self.proc: subprocess.Popen | None = None
        self.log_path = home.parent / f"{name}.log"

    def cli(self, *args: str, json_out: bool = False, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(self.bc), "--home", str(self.home)] + (["--json"] if json_out else []) + list(args)
        return subprocess.run(cmd, check=check, capture_output=True, text=True)

    def start(self, port: int, host: str = "127.0.0.1") -> None:
        self.log_file = open(self.log_path, "ab")
        seen = self.log_file.tell()  # the log is appended across restarts; look only at the new part
        self.proc = spawn([str(self.bc), "--home", str(self.home), "node", "run", "--listen", f"{host}:{port}"],
                          stdout=self.log_file, stderr=subprocess.STDOUT)  # the log goes to either
        wait_for(lambda: b"running" in self.log_path.read_bytes()[seen:], 15, f"{self.name} node start")

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None
            self.log_file.close()

    def channels(self, contact: str) -> dict:
        """{channel: state} of the connected channels of the link to contact (control socket)."""
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(10)
                s.connect(str(self.home / "control.sock"))
                s.sendall(b'{"op":"status"}\n')
                reply = json.loads(s.makefile().readline())
        except (OSError, ValueError):
            return {}
        for link in reply.get("links", []):
            if link["contact"] == contact:
                return {c["channel"]: c["state"] for c in link["channels"] if c["connected"]}
        return {}



def wait_quietly(cond, timeout_s: float) -> bool:
    try:
        wait_for(cond, timeout_s, "", interval=0.2)
        return True
    except RuntimeError:
        return False


class InboxFollower:
    """`inbox --follow --json` on the receiver, read on a thread. It only paces the benchmark
    (it polls the store every 200 ms); arrival times come from the node's own delivered_at_ms,
    stamped when the delivery transaction commits, so the poll interval does not enter them."""

    def __init__(self, node: Node):
        self.q: queue.Queue = queue.Queue()
        self.proc = spawn([str(node.bc), "--home", str(node.home), "--json", "inbox", "--follow"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.strip()
            if line:
                self.q.put(json.loads(line))

    def next(self, timeout_s: float) -> dict:
        return self.q.get(timeout=timeout_s)

    def close(self) -> None:
        stop(self.proc)


def make_pair(bc: Path, work: Path, relays: list[Relay] | None = None) -> tuple[Node, Node]:
    """Washington (A, receiver) and Moscow (B, sender), both running, link up. With relays: both
    use each of them too (`relay add` before the nodes start), beside the direct channel."""
    a = Node(bc, work / "a", "washington")
    b = Node(bc, work / "b", "moscow")
    a.cli("init", "--name", "washington")
    b.cli("init", "--name", "moscow")
    for node in (a, b):
        for r in relays or []:
            node.cli("relay", "add", r.home.name, r.url(), r.fingerprint, "--token", r.token())
    a.start(free_port())
    invitation = a.cli("invite").stdout.strip()
    b.cli("contact", "add", invitation)
    b.start(free_port())
    return a, b


def warm_up(a: Node, b: Node, follower: InboxFollower, count: int) -> None:
    # The first messages also carry the HELLO and ratchet start; not what we measure.
    for i in range(count):
        b.cli("send", "--to", "washington", f"warm-up {i}")
    for _ in range(count):
        follower.next(30)


# ---------------------------------------------------------------------------------------------
# 2. One-message latency


def bench_latency(bc: Path, bin_dir: Path, work: Path, messages: int, chunks: int) -> tuple[dict, dict]:
    """backchannel's latency and the TLS + SQLite baseline's, in alternating chunks: fsync time
    on a shared disk drifts by several times within minutes, and both should see the same drift."""
    log(f"latency: {messages} messages one at a time between two nodes on loopback, "
        f"interleaved in {chunks} chunks with the TLS 1.3 + SQLite baseline")
    a, b = make_pair(bc, work / "latency")
    follower = InboxFollower(a)
    base_one_way, base_round_trip = [], []
    try:
        warm_up(a, b, follower, 5)
        from_send_start, from_commit, send_cmd = [], [], []
        for i in range(messages):
            if i % -(-messages // chunks) == 0:
                base = bench_tls_sqlite(bin_dir, work / f"tls_sqlite-{i}", -(-messages // chunks))
                base_one_way += base["one_way_samples_us"]
                base_round_trip += base["round_trip_samples_us"]
            text = f"latency {i:05d}"
            t0 = now_ms()
            b.cli("send", "--to", "washington", text)
            t_ret = now_ms()
            row = follower.next(30)
            if row["body"].get("text") != text:
                raise RuntimeError(f"expected {text!r}, got {row['body']!r}")
            from_send_start.append(row["delivered_at_ms"] - t0)
            from_commit.append(row["delivered_at_ms"] - row["sent_at_ms"])
            send_cmd.append(t_ret - t0)
        receipts = []
        for e in json.loads(b.cli("log", "--with", "washington", json_out=True).stdout):
            if e.get("direction") == "out" and e.get("receipt_at_ms") and \
                    str(e.get("body", {}).get("text", "")).startswith("latency "):
                receipts.append(e["receipt_at_ms"] - e["sent_at_ms"])
    finally:
        follower.close()
        b.stop()
        a.stop()

    def stats(v):
        return {"p50": percentile(v, 50), "p99": percentile(v, 99), "n": len(v)}

    ours = {"from_send_start_ms": stats(from_send_start), "from_commit_ms": stats(from_commit),
            "send_command_ms": stats(send_cmd), "receipt_rtt_ms": stats(receipts) if receipts else None}
    baseline = {"messages": len(base_one_way), "size": base["size"], "chunks": chunks,
                "one_way_us": {"p50": percentile(base_one_way, 50), "p99": percentile(base_one_way, 99)},
                "round_trip_us": {"p50": percentile(base_round_trip, 50), "p99": percentile(base_round_trip, 99)}}
    return ours, baseline


def bench_tls_sqlite(bin_dir: Path, d: Path, messages: int) -> dict:
    d.mkdir(parents=True)
    out = subprocess.run([str(bin_dir / "tls_sqlite_baseline"), "--messages", str(messages), "--dir", str(d)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


# ---------------------------------------------------------------------------------------------
# 3. Sustained 1 KiB throughput


def kib_text(i: int) -> str:
    head = f"tp {i:06d} "
    return head + "x" * (1024 - len(head))


def bench_throughput(bc: Path, work: Path, messages: int, backlog: int, rounds: int) -> dict:
    log(f"throughput: {messages} x 1 KiB, queued by a loop of `send` while both nodes run")
    a, b = make_pair(bc, work / "throughput")
    follower = InboxFollower(a)
    result: dict = {}
    try:
        warm_up(a, b, follower, 5)
        # (a) Live: one `send` process per message, as an operator's script would do it.
        t_first = now_ms()
        for i in range(messages):
            b.cli("send", "--to", "washington", kib_text(i))
        t_queued = now_ms()
        last = None
        for _ in range(messages):
            last = follower.next(120)
        t_last = last["delivered_at_ms"]
        result["live"] = {
            "messages": messages,
            "first_send_to_last_delivered_s": (t_last - t_first) / 1000,
            "queue_s": (t_queued - t_first) / 1000,
            # Negative when the nodes kept up: the last message was in before its `send` returned.
            "queue_complete_to_all_delivered_s": (t_last - t_queued) / 1000,
            "msgs_per_s": messages / ((t_last - t_first) / 1000),
        }
        # (b) Backlog: the sender's node is stopped while messages are queued, then started;
        # from its start to the last delivery is the link's own rate (connect + session resume
        # included), without a process start per message.
        seconds = []
        for r in range(rounds):
            log(f"throughput: backlog of {backlog} x 1 KiB queued with the sender's node stopped "
                f"(round {r + 1} of {rounds})")
            b.stop()
            for i in range(backlog):
                b.cli("send", "--to", "washington", kib_text(messages + r * backlog + i))
            t_start = now_ms()
            b.start(free_port())
            for _ in range(backlog):
                last = follower.next(120)
            seconds.append((last["delivered_at_ms"] - t_start) / 1000)
        med = statistics.median(seconds)
        result["backlog"] = {"messages": backlog, "rounds": seconds, "start_to_all_delivered_s": med,
                             "msgs_per_s": backlog / med}
    finally:
        follower.close()
        b.stop()
        a.stop()
    return result


def bench_mosquitto_rounds(work: Path, messages: int, rounds: int) -> dict:
    seconds = [bench_mosquitto(work / f"mosquitto-{r}", messages)["seconds"] for r in range(rounds)]
    med = statistics.median(seconds)
    return {"messages": messages, "rounds": seconds, "seconds": med, "msgs_per_s": messages / med}


def bench_mosquitto(d: Path, messages: int) -> dict:
    log(f"baseline: mosquitto QoS 1, persistence on, {messages} x 1 KiB (fresh broker)")
    d.mkdir(parents=True)
    port = free_port()
    conf = d / "mosquitto.conf"
    # Persistence is mosquitto's own durability: an fsync'd snapshot of its whole in-memory
    # store, here after every change (the strongest setting it offers). The snapshot is taken
    # in its main loop, not before the PUBACK, and the clients keep nothing on disk.
    # `user`: as root, mosquitto would drop to user "mosquitto", which cannot write our temp dir.
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
                    f"persistence_location {d}/\nautosave_on_changes true\nautosave_interval 1\n"
                    f"log_dest file {d}/mosquitto.log\nuser {getpass.getuser()}\n")
    broker = spawn(["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sub = None
    try:
        wait_for(lambda: (d / "mosquitto.log").exists() and "running" in (d / "mosquitto.log").read_text(), 10,
                 "mosquitto start")
        # -c with a fixed id: a persistent session, so the broker keeps QoS 1 messages for the
        # subscriber as it would for a disconnected backchannel peer. -d shows the SUBACK.
        # stdbuf: mosquitto_sub's stdout is block-buffered into a pipe; each line must come as it happens.
        sub = spawn(["stdbuf", "-oL", "mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t", "bench/t", "-q", "1", "-c",
                     "-i", "bench-sub", "-C", str(messages), "-d"],
                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
        lines: queue.Queue = queue.Queue()

        def read():
            assert sub.stdout is not None
            for line in sub.stdout:
                lines.put((now_ms(), line.rstrip("\n")))
            lines.put((now_ms(), None))

        threading.Thread(target=read, daemon=True).start()
        while "SUBACK" not in lines.get(timeout=10)[1]:
            pass
        payload = "".join(kib_text(i) + "\n" for i in range(messages))
        t0 = now_ms()
        pub = spawn(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-t", "bench/t", "-q", "1", "-l"],
                    stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
        assert pub.stdin is not None
        pub.stdin.write(payload)
        pub.stdin.close()
        got, t_last = 0, t0
        while got < messages:
            t, line = lines.get(timeout=120)
            if line is None:
                break
            if line.startswith("tp "):
                got, t_last = got + 1, t
        pub.wait(timeout=30)
        _children.remove(pub)
        if got != messages:
            raise RuntimeError(f"mosquitto_sub got {got} of {messages}")
        return {"messages": messages, "seconds": (t_last - t0) / 1000, "msgs_per_s": messages / ((t_last - t0) / 1000)}
    finally:
        if sub is not None:
            stop(sub)
        stop(broker)


# ---------------------------------------------------------------------------------------------
# 5. Node-to-node latency with one of three channels killed


def bench_channel_loss(bc: Path, work: Path, messages: int, chunks: int) -> dict:
    """One link over three channels (direct and two relays). `messages` one at a time with all
    three up and as many with relay 1 SIGKILLed, in `chunks` alternating chunks (up, kill, up
    again after a restart, ...) so that drift on the shared machine reaches both alike; each
    killed chunk starts right after the SIGKILL (the nodes learn of the loss while it runs, as
    they would in use). Each message timed as bench_latency does."""
    log(f"channel loss: {messages} messages with direct + 2 relays up and {messages} with relay 1 SIGKILLed, "
        f"alternating in {chunks} chunks each")
    d = work / "channel-loss"
    d.mkdir(parents=True)
    relays = [Relay(bc, d / f"relay{i}") for i in (1, 2)]
    for r in relays:
        r.start()
    a, b = make_pair(bc, d, relays)
    follower = InboxFollower(a)
    all_three = {"direct": "up", "relay:relay1": "up", "relay:relay2": "up"}
    samples: dict = {"all-up": ([], []), "relay1-killed": ([], [])}
    channels_after_kill: dict = {}

    def all_up() -> bool:
        return a.channels("moscow") == all_three and b.channels("washington") == all_three

    try:
        wait_for(lambda: any(c["alias"] == "moscow" for c in json.loads(a.cli("contact", "list", json_out=True).stdout)),
                 30, "HELLO accepted", interval=0.2)
        wait_for(all_up, 60, "direct and both relay channels up on both sides", interval=0.2)
        warm_up(a, b, follower, 5)

        def measure(name: str, count: int) -> None:
            from_send_start, from_commit = samples[name]
            for i in range(count):
                text = f"{name} {len(from_commit):05d}"
                t0 = now_ms()
                b.cli("send", "--to", "washington", text)
                row = follower.next(60)
                if row["body"].get("text") != text:
                    raise RuntimeError(f"expected {text!r}, got {row['body']!r}")
                from_send_start.append(row["delivered_at_ms"] - t0)
                from_commit.append(row["delivered_at_ms"] - row["sent_at_ms"])

        per_chunk = -(-messages // chunks)
        for c in range(chunks):
            count = min(per_chunk, messages - c * per_chunk)
            if c > 0:
                relays[0].start()
                wait_for(all_up, 60, "relay 1 back on both sides", interval=0.2)
            measure("all-up", count)
            relays[0].kill()
            measure("relay1-killed", count)
            channels_after_kill = b.channels("washington")
    finally:
        follower.close()
        b.stop()
        a.stop()
        for r in relays:
            r.stop()

    def stats(v: list[float]) -> dict:
        return {"p50": percentile(v, 50), "p99": percentile(v, 99)}

    return {name: {"from_send_start_ms": stats(v[0]), "from_commit_ms": stats(v[1]), "n": len(v[0]),
                   "chunks": chunks, "channels_after": channels_after_kill}
            for name, v in samples.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=str(ROOT / "build" / "bin"), help="folder with backchannel and the bench programs")
    ap.add_argument("--out", default=None,
                    help="Markdown report ('' for none; default docs/benchmarks.md for a run of every part, "
                         "build/bench-partial.md when --only or --skip leave some out, so that a partial run "
                         "never replaces the whole table)")
    ap.add_argument("--note", default="", help="one more sentence for the report (e.g. how the binaries were built)")
    ap.add_argument("--only", default=",".join(ALL_PARTS), help="comma-separated parts to run")
    ap.add_argument("--skip", default=os.environ.get("BC_BENCH_SKIP", ""),
                    help="comma-separated parts not to run (default: $BC_BENCH_SKIP), e.g. flash,memory")
    ap.add_argument("--budget-messages", type=int, default=200, help="budget: traced messages one at a time")
    ap.add_argument("--flash-tries", type=int, default=50, help="flash: FLASH messages behind the files")
    ap.add_argument("--flash-mb", type=int, default=100, help="flash: MB of ROUTINE files flowing (two files)")
    ap.add_argument("--reps", type=int, default=5, help="session_bench repetitions")
    ap.add_argument("--latency-messages", type=int, default=200)
    ap.add_argument("--chunks", type=int, default=4, help="latency and channels: alternate with the baseline this many times")
    ap.add_argument("--messages", type=int, default=2000, help="throughput: messages queued live")
    ap.add_argument("--backlog", type=int, default=1000, help="throughput: messages queued with the node stopped")
    ap.add_argument("--rounds", type=int, default=3,
                    help="throughput and relay: backlog, mosquitto, relay and NATS rounds (median quoted)")
    ap.add_argument("--api-messages", type=int, default=5000, help="api: messages per round")
    ap.add_argument("--api-window", type=int, default=128, help="api: submissions (and XADDs) in flight")
    ap.add_argument("--relay-messages", type=int, default=5000, help="relay: envelopes per throughput round")
    ap.add_argument("--relay-window", type=int, default=64, help="relay: publishes awaiting their ack at most")
    ap.add_argument("--relay-latency", type=int, default=200, help="relay: envelopes one at a time per round")
    ap.add_argument("--channel-messages", type=int, default=100, help="channels: messages per phase")
    ap.add_argument("--health-reps", type=int, default=5,
                    help="health: repetitions of each channel cut per heartbeat interval (bench/health_bench.py)")
    ap.add_argument("--cover-messages", type=int, default=20, help="cover: FLASH messages timed per mode")
    ap.add_argument("--memory-contacts", type=int, default=200, help="memory: contacts (and counterpart nodes) of one node")
    ap.add_argument("--memory-owners", type=int, default=1000, help="memory: mailbox owners connected to one relay")
    ap.add_argument("--load-seconds", type=float, default=12,
                    help="load: seconds of 1,000 owners x 10 PUTs/s against one relay (bench/load_bench.py)")
    args = ap.parse_args()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    bin_dir = Path(args.bin)
    bc = bin_dir / "backchannel"
    parts = set(args.only.split(",")) - set(args.skip.split(","))
    if args.out is None:
        whole = parts >= set(ALL_PARTS)
        args.out = str(ROOT / "docs" / "benchmarks.md") if whole else str(ROOT / "build" / "bench-partial.md")
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="backchannel-bench-"))
    r: dict = {"date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
               "machine": e2e_report.machine_notes(), "reps": args.reps, "note": args.note}
    try:
        if "session" in parts:
            r["session"] = bench_session(bin_dir, args.reps)
        if "mlkem" in parts:
            r["mlkem"] = bench_mlkem(bin_dir, args.reps)
            r["pq"] = bench_pq(bin_dir, args.reps)
        if "latency" in parts:
            r["latency"], r["tls_sqlite"] = bench_latency(bc, bin_dir, work, args.latency_messages, args.chunks)
        if "throughput" in parts:
            v = subprocess.run(["mosquitto", "-h"], capture_output=True, text=True).stdout.split("\n")[0]
            r["mosquitto_version"] = v.replace("mosquitto version", "").strip()
            r["mosquitto"] = bench_mosquitto_rounds(work, args.messages, args.rounds)
            r["throughput"] = bench_throughput(bc, work, args.messages, args.backlog, args.rounds)
        if "api" in parts:
            import api_bench  # bench/api_bench.py: the application interface against Redis Streams (issue 12)
            r["api"] = api_bench.run(bc, work, args.api_messages, args.api_window, args.rounds)
        if parts & {"budget", "flash"}:
            import budget_bench  # bench/budget_bench.py: the latency budget and FLASH behind files (issue 12)
            r["budget"] = budget_bench.run(bc, bin_dir, work, parts, args.budget_messages, args.chunks,
                                           args.flash_tries, args.flash_mb)
        if "relay" in parts:
            import api_bench  # its Redis Streams runner is the relay's second baseline (issue 12)
            r["nats_version"] = subprocess.run(["nats-server", "--version"], capture_output=True,
                                               text=True).stdout.strip().replace("nats-server: ", "")
            window, size, n = args.relay_window, 2048, args.relay_messages
            r["relay"] = bench_relay_vs_nats(
                bc, bin_dir, work, args.relay_messages, args.relay_window, args.relay_latency, args.rounds,
                extra={"redis": lambda d: api_bench.run_redis(d, n, window, size)})
        if "channels" in parts:
            r["channels"] = bench_channel_loss(bc, work, args.channel_messages, args.chunks)
        if "cover" in parts:
            import cover_bench  # bench/cover_bench.py: latency and bandwidth of cover traffic (issue 14)
            r["cover"] = cover_bench.run(bc, messages=args.cover_messages)
        if "health" in parts:
            import health_bench  # bench/health_bench.py: cut detection and heartbeat bandwidth (issue 6)
            r["health"] = health_bench.run(bc, args.health_reps)
        if "memory" in parts:
            import memory_bench  # bench/memory_bench.py: RSS per link and per relay connection (issue 12)
            r["memory"] = memory_bench.run(bc, bin_dir, work, args.memory_contacts, args.memory_owners)
        if "load" in parts:
            import load_bench  # bench/load_bench.py: 1,000 owners x 10 PUTs/s against one relay (issue 17)
            r["load"] = load_bench.run(bc, bin_dir, work, args.load_seconds)
    finally:
        stop_all()
        shutil.rmtree(work, ignore_errors=True)
    r["elapsed_s"] = time.monotonic() - started
    text, md = e2e_report.report(r)
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(md)
        log(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
