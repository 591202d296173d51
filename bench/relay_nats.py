"""Benchmark part 4: the relay's durable puts and one-message latency against NATS JetStream
(file storage), and the relay's commit window 2 ms against 0, each round with fresh servers.
The relay side is bench/relay_bench.cpp over the relay protocol; the NATS side a minimal client
of its text protocol (no NATS library is packaged in Debian 12). `Relay` also serves part 5."""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import threading
import time
from pathlib import Path

from bench_common import _children, free_port, log, percentile, spawn, stop, wait_for

# ---------------------------------------------------------------------------------------------
# 4. Relay throughput and latency vs NATS JetStream


class Relay:
    """A relay daemon in a home of its own (`relay init`, relay.toml, `relay run`); SIGKILL."""

    def __init__(self, bc: Path, home: Path, settings: str = ""):
        self.bc, self.home, self.port = bc, home, free_port()
        self.proc: subprocess.Popen | None = None
        self.log_path = home.parent / f"{home.name}.log"
        self.cli("relay", "init")
        (home / "relay.toml").write_text(settings)
        info = json.loads(self.cli("--json", "relay", "info").stdout)
        self.fingerprint = info["fingerprint"]

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.bc), "--home", str(self.home), *args], check=True, capture_output=True,
                              text=True)

    def token(self) -> str:
        return json.loads(self.cli("--json", "relay", "token", "create").stdout)["token"]

    def url(self) -> str:
        return f"wss://127.0.0.1:{self.port}/bc/v1"

    def start(self) -> None:
        with open(self.log_path, "ab") as log_file:
            self.proc = spawn([str(self.bc), "--home", str(self.home), "relay", "run", "--listen",
                               f"127.0.0.1:{self.port}"], stdout=log_file, stderr=subprocess.STDOUT)
        wait_for(lambda: port_open(self.port) or self.proc.poll() is not None, 15, "relay start")
        if self.proc.poll() is not None:
            raise RuntimeError(f"relay exited with {self.proc.returncode}; see {self.log_path}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        if self.proc in _children:
            _children.remove(self.proc)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None


def port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


# The relay's per-connection rate limit (500 requests/s by default) is an abuse guard, not a
# cost of the protocol: the benchmark lifts it so that it measures the store and the network.
RELAY_BENCH_LIMITS = "[limits]\nrate = 1000000\nburst = 1000000\n"


def bench_relay_once(bc: Path, bin_dir: Path, d: Path, messages: int, window: int, latency: int,
                     commit_window: str) -> dict:
    d.mkdir(parents=True)
    relay = Relay(bc, d / "relay", RELAY_BENCH_LIMITS + f'[commit]\nwindow = "{commit_window}"\n')
    try:
        token = relay.token()
        relay.start()
        out = subprocess.run([str(bin_dir / "relay_bench"), "--port", str(relay.port), "--fingerprint",
                              relay.fingerprint, "--token", token, "--messages", str(messages), "--window",
                              str(window), "--latency", str(latency)],
                             check=True, capture_output=True, text=True, timeout=600).stdout
        # net's log lines share stdout with the result, which is the one line that is a JSON object.
        return json.loads([line for line in out.splitlines() if line.startswith("{")][-1])
    finally:
        relay.stop()


class NatsConnection:
    """A minimal NATS client over the text protocol (INFO, CONNECT, PING/PONG, SUB, PUB, MSG,
    HMSG): only what the JetStream benchmark needs. A reader thread hands every message to
    on_msg(subject, reply, payload, received_at)."""

    def __init__(self, port: int, on_msg):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rfile = self.sock.makefile("rb", buffering=1 << 16)
        self.lock = threading.Lock()
        self.on_msg = on_msg
        self.closed = False
        info = self.rfile.readline()
        if not info.startswith(b"INFO "):
            raise RuntimeError(f"nats: expected INFO, got {info[:80]!r}")
        self.write(b'CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true,'
                   b'"lang":"python-bench","version":"0"}\r\nPING\r\n')
        line = self.rfile.readline()
        if not line.startswith(b"PONG"):
            raise RuntimeError(f"nats: expected PONG, got {line[:200]!r}")
        self.sock.settimeout(None)
        self.sid = 0
        threading.Thread(target=self._read, daemon=True).start()

    def write(self, data: bytes) -> None:
        with self.lock:
            self.sock.sendall(data)

    def sub(self, subject: str) -> None:
        self.sid += 1
        self.write(f"SUB {subject} {self.sid}\r\n".encode())

    def pub(self, subject: str, payload: bytes, reply: str = "") -> None:
        head = f"PUB {subject} {reply} {len(payload)}\r\n" if reply else f"PUB {subject} {len(payload)}\r\n"
        self.write(head.encode() + payload + b"\r\n")

    def _read(self) -> None:
        try:
            while not self.closed:
                line = self.rfile.readline()
                if not line:
                    return
                if line.startswith(b"MSG ") or line.startswith(b"HMSG "):
                    parts = line.split()
                    headers = line.startswith(b"HMSG ")
                    # MSG subject sid [reply] size | HMSG subject sid [reply] header_size size
                    fixed = 5 if headers else 4
                    reply = parts[3].decode() if len(parts) == fixed + 1 else ""
                    size = int(parts[-1])
                    body = self.rfile.read(size + 2)[:size]
                    if headers:
                        hsize = int(parts[-2])
                        head, body = body[:hsize], body[hsize:]
                        # Idle heartbeats and flow control carry a status line and no payload.
                        if b"NATS/1.0 100" in head:
                            if reply:
                                self.pub(reply, b"")
                            continue
                    self.on_msg(parts[1].decode(), reply, body, time.monotonic())
                elif line.startswith(b"PING"):
                    self.write(b"PONG\r\n")
                elif line.startswith(b"-ERR"):
                    raise RuntimeError(f"nats: {line.decode().strip()}")
        except (OSError, ValueError):
            if not self.closed:
                raise

    def close(self) -> None:
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def bench_nats_once(d: Path, messages: int, window: int, latency: int, size: int = 2048) -> dict:
    """The relay benchmark's counterpart: a JetStream stream on file storage, a publisher that
    waits for each PubAck (at most `window` outstanding), an explicit-ack push consumer that
    acks every message."""
    d.mkdir(parents=True)
    port = free_port()
    server = spawn(["nats-server", "-js", "-sd", str(d / "store"), "-a", "127.0.0.1", "-p", str(port)],
                   stdout=open(d / "nats.log", "wb"), stderr=subprocess.STDOUT)
    conns: list[NatsConnection] = []
    try:
        wait_for(lambda: port_open(port) or server.poll() is not None, 15, "nats-server start")
        if server.poll() is not None:
            raise RuntimeError(f"nats-server exited with {server.returncode}; see {d / 'nats.log'}")
        cond = threading.Condition()
        warmup = 10
        total = warmup + messages + latency
        st = {"acks": 0, "delivered": 0, "replies": {}, "dups": 0}
        put_at, ack_at, got_at = [0.0] * total, [0.0] * total, [0.0] * total

        def on_pub_msg(subject, _reply, body, t):
            with cond:
                if subject.startswith("_INBOX.pub."):
                    seq = int(subject.rsplit(".", 1)[1])
                    if b'"error"' in body:
                        raise RuntimeError(f"nats: publish {seq} refused: {body.decode()}")
                    ack_at[seq] = t
                    st["acks"] += 1
                else:
                    st["replies"][subject] = body
                cond.notify_all()

        def on_sub_msg(subject, reply, body, t):
            seq = int.from_bytes(body[:8], "big")
            consumer.pub(reply, b"")  # explicit ack, one per message
            with cond:
                if got_at[seq]:
                    st["dups"] += 1
                else:
                    got_at[seq] = t
                    st["delivered"] += 1
                cond.notify_all()

        publisher = NatsConnection(port, on_pub_msg)
        conns.append(publisher)
        consumer = NatsConnection(port, on_sub_msg)
        conns.append(consumer)
        publisher.sub("_INBOX.pub.*")
        publisher.sub("_INBOX.api.*")

        def api(subject: str, config: dict) -> dict:
            reply = f"_INBOX.api.{len(st['replies'])}"
            publisher.pub(subject, json.dumps(config).encode(), reply)
            with cond:
                if not cond.wait_for(lambda: reply in st["replies"], 10):
                    raise RuntimeError(f"nats: no answer to {subject}")
                answer = json.loads(st["replies"][reply])
            if "error" in answer:
                raise RuntimeError(f"nats: {subject}: {answer['error']}")
            return answer

        api("$JS.API.STREAM.CREATE.BENCH", {"name": "BENCH", "subjects": ["bench.msgs"], "storage": "file"})
        consumer.sub("bench.deliver")
        # Durable, as a mailbox is (nats-server 2.9 wants durable consumers made with this subject).
        api("$JS.API.CONSUMER.DURABLE.CREATE.BENCH.sub", {"stream_name": "BENCH", "config": {
            "durable_name": "sub", "deliver_subject": "bench.deliver", "ack_policy": "explicit",
            "deliver_policy": "all", "max_ack_pending": 65536}})

        payload = bytearray(os.urandom(size))

        def publish(seq: int) -> None:
            payload[:8] = seq.to_bytes(8, "big")
            put_at[seq] = time.monotonic()
            publisher.pub("bench.msgs", bytes(payload), f"_INBOX.pub.{seq}")

        def one_at_a_time(lo: int, hi: int) -> None:
            for seq in range(lo, hi):
                with cond:
                    publish(seq)
                    if not cond.wait_for(lambda: st["acks"] == seq + 1 and st["delivered"] == seq + 1, 30):
                        raise RuntimeError(f"nats: message {seq} not acknowledged and delivered within 30 s")

        one_at_a_time(0, warmup)
        first, last = warmup, warmup + messages
        started = time.monotonic()
        with cond:
            for seq in range(first, last):
                cond.wait_for(lambda: seq - st["acks"] < window)
                publish(seq)
            if not cond.wait_for(lambda: st["acks"] >= last and st["delivered"] >= last, 300):
                raise RuntimeError(f"nats: {st['delivered'] - first} of {messages} delivered within 300 s")
        last_got = max(got_at[first:last])
        last_ack = max(ack_at[first:last])
        one_at_a_time(last, last + latency)
        put_ack = [(ack_at[i] - put_at[i]) * 1e6 for i in range(last, last + latency)]
        put_got = [(got_at[i] - put_at[i]) * 1e6 for i in range(last, last + latency)]
        return {"messages": messages, "size": size, "window": window, "seconds": last_got - started,
                "msgs_per_s": messages / (last_got - started), "acked_per_s": messages / (last_ack - started),
                "duplicates": st["dups"], "latency_messages": latency,
                "put_ok_us": {"p50": percentile(put_ack, 50), "p99": percentile(put_ack, 99)},
                "put_delivered_us": {"p50": percentile(put_got, 50), "p99": percentile(put_got, 99)}}
    finally:
        for c in conns:
            c.close()
        stop(server)


def bench_relay_vs_nats(bc: Path, bin_dir: Path, work: Path, messages: int, window: int, latency: int,
                        rounds: int, extra=None) -> dict:
    """Relay (its default commit window, 0, then 2 ms, the former default) and NATS, alternating
    round by round so that drift in fsync time on the shared disk reaches all three alike;
    medians quoted. extra: {name: fn(directory) -> dict}, more baselines run in each round after
    NATS (their results under "extra")."""
    runs: dict[str, list[dict]] = {"relay": [], "relay_window2ms": [], "nats": []}
    extra_runs: dict[str, list[dict]] = {name: [] for name in (extra or {})}
    for r in range(rounds):
        log(f"relay: {messages} x 2 KiB durable PUTs to a subscriber, window {window}, then {latency} one at a "
            f"time (round {r + 1} of {rounds}; commit window 0 and 2 ms, and NATS JetStream)")
        runs["relay"].append(bench_relay_once(bc, bin_dir, work / f"relay-{r}", messages, window, latency, "0ms"))
        runs["relay_window2ms"].append(bench_relay_once(bc, bin_dir, work / f"relay2-{r}", messages, window,
                                                        latency, "2ms"))
        runs["nats"].append(bench_nats_once(work / f"nats-{r}", messages, window, latency))
        for name, fn in (extra or {}).items():
            log(f"relay: round {r + 1} of {rounds}: {name}")
            d = work / f"{name}-{r}"
            d.mkdir(parents=True)
            extra_runs[name].append(fn(d))

    def summary(rs: list[dict]) -> dict:
        med = lambda f: statistics.median(f(x) for x in rs)  # noqa: E731
        return {"rounds": rs, "msgs_per_s": med(lambda x: x["msgs_per_s"]),
                "acked_per_s": med(lambda x: x["acked_per_s"]),
                "put_ok_us": {p: med(lambda x: x["put_ok_us"][p]) for p in ("p50", "p99")},
                "put_delivered_us": {p: med(lambda x: x["put_delivered_us"][p]) for p in ("p50", "p99")},
                "duplicates": sum(x["duplicates"] for x in rs)}

    return {"messages": messages, "window": window, "latency_messages": latency,
            **{k: summary(v) for k, v in runs.items()}, "extra": extra_runs}
