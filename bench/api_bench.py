"""Sustained messages through the application interface (docs/api.md) against Redis Streams,
each measured in the same run (issue 12's throughput row).

backchannel: two release nodes on loopback, linked; one producer program (the Python client,
clients/python) submits N x 1 KiB texts with W in flight on one connection (each answered once
durable at the sender: group commit), one consumer program on the receiver reads deliveries by
long poll and acks each batch. E2E sealed, durable at both ends, receipts on. Measured from the
first submit to the consumer's last ack.

Redis Streams (Debian's redis-server): `appendonly yes`, `appendfsync always` (every write
fsync'd before the reply), a fresh server per round; XADD pipelined with the same W in flight,
a consumer group reading with XREADGROUP (BLOCK) and acknowledging with XACK per batch, on its
own connection. Measured from the first XADD to the last XACK.
"""
from __future__ import annotations

import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "clients" / "python"))
from backchannel_client import Client  # noqa: E402
from bench_common import free_port, log, now_ms, spawn, stop, wait_for  # noqa: E402


def kib_text(i: int) -> str:
    head = f"api message {i} "
    return head + "x" * (1024 - len(head))


# ---- backchannel ---------------------------------------------------------------------------

def _cli(bc: Path, home: Path, *args: str) -> str:
    return subprocess.run([str(bc), "--home", str(home), *args], check=True, capture_output=True,
                          text=True).stdout


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def run_backchannel(bc: Path, work: Path, messages: int, window: int) -> dict:
    a_home, b_home = work / "api-a", work / "api-b"
    _cli(bc, a_home, "init", "--name", "washington")
    _cli(bc, b_home, "init", "--name", "moscow")
    pa, pb = free_port(), free_port()
    procs = []
    try:
        logs = [open(work / "api-a.log", "ab"), open(work / "api-b.log", "ab")]
        procs.append(spawn([str(bc), "--home", str(a_home), "node", "run", "--listen", f"127.0.0.1:{pa}"],
                           stdout=logs[0], stderr=subprocess.STDOUT))
        wait_for(lambda: (a_home / "control.sock").exists(), 15, "washington's node")
        inv = _cli(bc, a_home, "invite", "--address", f"127.0.0.1:{pa}").strip()
        _cli(bc, b_home, "contact", "add", inv)
        procs.append(spawn([str(bc), "--home", str(b_home), "node", "run", "--listen", f"127.0.0.1:{pb}"],
                           stdout=logs[1], stderr=subprocess.STDOUT))
        wait_for(lambda: (b_home / "control.sock").exists(), 15, "moscow's node")

        def linked() -> bool:
            with Client(home=str(a_home)) as c:
                return bool(c.call({"op": "status"})["links"])
        wait_for(linked, 30, "the link")
        # Warm-up: the HELLO and the ratchet start are not what we measure.
        with Client(home=str(b_home)) as p:
            p.submit_many([{"contact": "washington", "text": "warm-up"} for _ in range(20)])
        with Client(home=str(a_home)) as c:
            got = 0
            cursor = 0
            while got < 20:
                batch = c.deliveries(after=cursor, wait_ms=10000)
                got += len(batch["messages"])
                cursor = batch["cursor"]
            c.ack("bench", cursor)

        done = {}

        def consume():
            with Client(home=str(a_home)) as c:
                received = 0
                while received < messages:
                    batch = c.deliveries(consumer="bench", max=1000, wait_ms=20000)
                    if batch["messages"]:
                        received += len(batch["messages"])
                        c.ack("bench", batch["cursor"])
                done["t_last_ack"] = now_ms()
                done["received"] = received

        consumer = threading.Thread(target=consume)
        consumer.start()
        with Client(home=str(b_home)) as p:
            t_first = now_ms()
            answers = p.submit_many([{"contact": "washington", "text": kib_text(i)} for i in range(messages)],
                                    window=window)
            t_durable = now_ms()
        consumer.join(timeout=600)
        seconds = (done["t_last_ack"] - t_first) / 1000
        with Client(home=str(b_home)) as c:
            status = c.call({"op": "status"})
        return {"messages": messages, "window": window, "seconds": seconds, "msgs_per_s": messages / seconds,
                "submit_durable_s": (t_durable - t_first) / 1000, "received": done["received"],
                "refused": sum(1 for a in answers if isinstance(a, Exception)),
                "rss_kib": {"sender": _rss_kib(procs[1].pid), "receiver": _rss_kib(procs[0].pid)},
                "confirmed_pending": status["links"][0]["queue"]}
    finally:
        for p in procs:
            stop(p)


# ---- Redis Streams -------------------------------------------------------------------------

class Resp:
    """A minimal RESP2 client: commands out, replies in (pipelined)."""

    def __init__(self, port: int):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.f = self.s.makefile("rb")

    @staticmethod
    def encode(*args) -> bytes:
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            b = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(b), b))
        return b"".join(out)

    def send(self, *args) -> None:
        self.s.sendall(self.encode(*args))

    def read(self):
        line = self.f.readline()
        t, rest = line[:1], line[1:-2]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            raise RuntimeError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)[:-2]
            return data
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RuntimeError(f"bad RESP line {line!r}")

    def call(self, *args):
        self.send(*args)
        return self.read()


def run_redis(work: Path, messages: int, window: int, size: int = 1024) -> dict:
    """Redis Streams with appendfsync always: `messages` entries of `size` bytes, XADD pipelined
    with `window` in flight, one consumer group reader (XREADGROUP, XACK per batch). msgs_per_s
    runs from the first XADD to the last XACK; delivered_per_s to the read that returned the last
    entry (what the relay benchmark measures: the N-th DELIVER)."""
    d = work / f"redis-{time.monotonic_ns()}"
    d.mkdir()
    port = free_port()
    proc = spawn(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(d),
                  "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no"],
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def up() -> bool:
            try:
                return Resp(port).call("PING") == "PONG"
            except OSError:
                return False
        wait_for(up, 15, "redis-server")
        prod = Resp(port)
        prod.call("XGROUP", "CREATE", "bench", "g", "$", "MKSTREAM")
        filler = os.urandom(size)

        def entry(i: int) -> bytes | str:
            return kib_text(i) if size == 1024 else i.to_bytes(8, "big") + filler[8:]
        done = {}

        def consume():
            c = Resp(port)
            received = 0
            while received < messages:
                reply = c.call("XREADGROUP", "GROUP", "g", "c1", "COUNT", 1000, "BLOCK", 20000,
                               "STREAMS", "bench", ">")
                if not reply:
                    continue
                ids = [entry[0] for entry in reply[0][1]]
                received += len(ids)
                if received >= messages:
                    done["t_last_delivered"] = now_ms()
                c.call("XACK", "bench", "g", *ids)
            done["t_last_ack"] = now_ms()

        consumer = threading.Thread(target=consume)
        consumer.start()
        t_first = now_ms()
        sent = pending = 0
        while sent < messages or pending:
            while sent < messages and pending < window:
                prod.send("XADD", "bench", "*", "body", entry(sent))
                sent += 1
                pending += 1
            prod.read()
            pending -= 1
        consumer.join(timeout=600)
        seconds = (done["t_last_ack"] - t_first) / 1000
        version = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.split()[2]
        delivered_s = (done["t_last_delivered"] - t_first) / 1000
        return {"messages": messages, "size": size, "window": window, "seconds": seconds,
                "msgs_per_s": messages / seconds, "delivered_per_s": messages / delivered_s, "version": version}
    finally:
        stop(proc)


def run(bc: Path, work: Path, messages: int = 5000, window: int = 128, rounds: int = 3) -> dict:
    ours, redis = [], []
    for r in range(rounds):
        log(f"api: round {r + 1} of {rounds}: {messages} x 1 KiB through the interface, {window} in flight")
        rdir = work / f"api-round-{r}"
        rdir.mkdir()
        ours.append(run_backchannel(bc, rdir, messages, window))
        log(f"api: round {r + 1} of {rounds}: Redis Streams (appendfsync always), {window} in flight")
        redis.append(run_redis(rdir, messages, window))
    med = lambda xs: statistics.median(x["msgs_per_s"] for x in xs)  # noqa: E731
    return {"ours": ours, "redis": redis, "ours_msgs_per_s": med(ours), "redis_msgs_per_s": med(redis),
            "messages": messages, "window": window}


def table_rows(r: dict | None) -> list[tuple[str, str, str, str]]:
    if not r:
        return []
    ratio = r["ours_msgs_per_s"] / r["redis_msgs_per_s"]
    met = "" if ratio >= 1.0 else " (target 1.0x: missed)"
    return [(f"api: 1 KiB msgs/s, submit ({r['window']} in flight) -> consumer ack, E2E sealed, durable both ends "
             f"({r['messages']} msgs)",
             f"{r['ours_msgs_per_s']:,.0f}/s",
             f"{r['redis_msgs_per_s']:,.0f}/s Redis Streams (appendfsync always)",
             f"{ratio:.2f}x{met}")]


def details_md(r: dict | None) -> list[str]:
    if not r:
        return []
    ours = ", ".join(f"{x['msgs_per_s']:,.0f}" for x in r["ours"])
    redis = ", ".join(f"{x['msgs_per_s']:,.0f}" for x in r["redis"])
    last = r["ours"][-1]
    return [f"- API throughput (bench/api_bench.py): {r['messages']} x 1 KiB per round, {len(r['ours'])} rounds "
            f"alternating; one producer (Python client, {r['window']} submissions in flight on one connection, each "
            f"answered once durable; the node commits what arrived together in one transaction) and one consumer "
            f"(deliveries by long poll, an ack per batch) against Redis {r['redis'][0]['version']} Streams with "
            f"appendonly yes, appendfsync always (XADD pipelined with the same number in flight; XREADGROUP + XACK "
            f"per batch). msgs/s per round: backchannel {ours}; Redis {redis} (medians quoted). In the last round "
            f"the producer had every message durable after {last['submit_durable_s']:.2f} s; node RSS after it: "
            f"sender {last['rss_kib']['sender'] / 1024:.1f} MiB, receiver {last['rss_kib']['receiver'] / 1024:.1f} MiB."]
