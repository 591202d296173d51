#!/usr/bin/env python3
"""Issue 12's latency budget and FLASH-behind-a-file rows, each against the floor measured in the
same run (bench/tls_sqlite_baseline: a TLS 1.3 ping-pong on loopback with a durable SQLite commit
at each end).

budget: two release nodes on loopback, linked by the direct channel, each run with BC_TRACE_FILE
  (util/trace.h: one line per stage, CLOCK_REALTIME µs). One producer (the Python client,
  clients/python) submits 1 KiB texts one at a time, each after the previous one reached the
  consumer and its receipt came back; one consumer long-polls deliveries and acks each. The
  driver joins the two nodes' traces with the clients' own stamps (time.time(), the same clock)
  per message and reports each stage's median and p99, their sum and submit -> consumer. The
  stages, in order (the node that stamps them):
    submit   -> taken      the client's write until the sender's loop took the request
    taken    -> durable    the group commit of the submission (sender)
    durable  -> sealed     the link reads its new row (a batch), plans and seals (sender)
    sealed   -> wire       handed to the channel: net's send queue (sender; net is not traced,
                           so "on the wire" is this hand-off)
    wire     -> received   TLS write, loopback, TLS read: net's I/O threads (receiver's stamp
                           when net hands the envelope up)
    received -> opened     the receiver's loop takes it, the session opens it
    opened   -> committed  engine, inbox write, the batch's commit (receiver)
    committed-> answered   the loop sends the ACK and receipt, then answers the long poll
    answered -> consumer   the control socket and the client's read and parse
  and the receipt: the receiver's commit -> the sender's engine confirmed the signed receipt.
  The floor runs in chunks alternating with the messages (fsync time drifts on a shared disk).

flash: two nodes (no trace); 100 MB of ROUTINE files submitted (two files of 50 MB: a message
  holds at most 64 MiB), then, once the link carries them, 50 FLASH 1 KiB texts one at a time:
  submit -> consumer p99 against the floor's p99 + the time of one 2048-byte envelope at the
  link's measured throughput of the files (their bytes / submit -> both delivered).
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "clients" / "python"))
from backchannel_client import ApiError, Client  # noqa: E402
from bench_common import free_port, log, percentile, spawn, stop, wait_for  # noqa: E402

STAGES = [("submit", "taken"), ("taken", "durable"), ("durable", "sealed"), ("sealed", "wire"),
          ("wire", "received"), ("received", "opened"), ("opened", "committed"),
          ("committed", "answered"), ("answered", "consumer")]


def kib_text(tag: str, i: int) -> str:
    head = f"{tag} {i:05d} "
    return head + "x" * (1024 - len(head))


def _cli(bc: Path, home: Path, *args: str) -> str:
    return subprocess.run([str(bc), "--home", str(home), *args], check=True, capture_output=True,
                          text=True).stdout


class Pair:
    """washington (receiver, a) and moscow (sender, b), running, linked, warmed up."""

    def __init__(self, bc: Path, work: Path, trace: bool):
        work.mkdir(parents=True, exist_ok=True)
        self.a, self.b = work / "a", work / "b"
        self.traces = (work / "a.trace", work / "b.trace") if trace else None
        _cli(bc, self.a, "init", "--name", "washington")
        _cli(bc, self.b, "init", "--name", "moscow")
        self.procs = []
        pa, pb = free_port(), free_port()
        self._start(bc, self.a, pa, work / "a.log", 0)
        inv = _cli(bc, self.a, "invite", "--address", f"127.0.0.1:{pa}").strip()
        _cli(bc, self.b, "contact", "add", inv)
        self._start(bc, self.b, pb, work / "b.log", 1)

        def linked() -> bool:
            with Client(home=str(self.a)) as c:
                return bool(c.call({"op": "status"})["links"])
        wait_for(linked, 30, "the link")
        # The HELLO and the ratchet start are not what we measure.
        with Client(home=str(self.b)) as p:
            p.submit_many([{"contact": "washington", "text": "warm-up"} for _ in range(20)])
        with Client(home=str(self.a)) as c:
            got, cursor = 0, 0
            while got < 20:
                batch = c.deliveries(after=cursor, wait_ms=10000)
                got += len(batch["messages"])
                cursor = batch["cursor"]
            c.ack("bench", cursor)
            c.ack("flash", cursor)

    def _start(self, bc: Path, home: Path, port: int, log_path: Path, index: int) -> None:
        env = dict(os.environ)
        if self.traces:
            env["BC_TRACE_FILE"] = str(self.traces[index])
        else:
            env.pop("BC_TRACE_FILE", None)
        with open(log_path, "ab") as f:
            self.procs.append(spawn([str(bc), "--home", str(home), "node", "run", "--listen", f"127.0.0.1:{port}"],
                                    stdout=f, stderr=subprocess.STDOUT, env=env))
        wait_for(lambda: (home / "control.sock").exists(), 15, f"{home.name}'s node")

    def stop(self) -> None:
        for p in reversed(self.procs):
            stop(p)  # SIGTERM: the node's Trace writes what it buffered
        self.procs = []


class StampingReader(threading.Thread):
    """A thread that long-polls one of a node's streams (_run) and stamps, by seq, when the
    client read each item (time.time()); wait() blocks until a seq was stamped."""

    what = "item"

    def __init__(self, home: Path):
        super().__init__(daemon=True)
        self.home = home
        self.got: dict[int, float] = {}
        self.cond = threading.Condition()
        self.stopping = False

    def run(self) -> None:
        try:
            self._run()
        except (OSError, ApiError):
            if not self.stopping:
                raise

    def _run(self) -> None:
        raise NotImplementedError

    def wait(self, seq: int, timeout_s: float) -> float:
        with self.cond:
            if not self.cond.wait_for(lambda: seq in self.got, timeout_s):
                raise RuntimeError(f"no {self.what} for #{seq} within {timeout_s} s")
            return self.got[seq]


class Consumer(StampingReader):
    """Long-polls the receiver's deliveries as `name`, acks each batch; stamps each message's
    arrival by seq."""

    what = "delivery to the consumer"

    def __init__(self, home: Path, name: str):
        super().__init__(home)
        self.name = name
        self.messages: dict[int, dict] = {}

    def _run(self) -> None:
        with Client(home=str(self.home), timeout=60) as c:
            while not self.stopping:
                batch = c.deliveries(consumer=self.name, max=100, wait_ms=2000)
                t = time.time()
                if not batch["messages"]:
                    continue
                with self.cond:
                    for m in batch["messages"]:
                        self.got[m["seq"]] = t
                        m.pop("data_b64", None)
                        self.messages[m["seq"]] = m
                    self.cond.notify_all()
                c.ack(self.name, batch["cursor"])


class Receipts(StampingReader):
    """The sender's events: stamps each receipt's seqs as the client read them."""

    what = "receipt"

    def _run(self) -> None:
        with Client(home=str(self.home), timeout=60) as c:
            cursor = c.events(after=0, max=1000)["cursor"]
            while not self.stopping:
                batch = c.events(after=cursor, max=1000, wait_ms=2000)
                t = time.time()
                cursor = batch["cursor"]
                with self.cond:
                    for e in batch["events"]:
                        if e.get("type") == "receipt":
                            for s in e["seqs"]:
                                self.got.setdefault(s, t)
                    self.cond.notify_all()


def floor_run(bin_dir: Path, d: Path, messages: int) -> dict:
    d.mkdir(parents=True)
    out = subprocess.run([str(bin_dir / "tls_sqlite_baseline"), "--messages", str(messages), "--dir", str(d)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def read_trace(path: Path) -> list[tuple[int, str, dict]]:
    out = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        out.append((int(parts[0]), parts[1], dict(p.split("=", 1) for p in parts[2:] if "=" in p)))
    return out


def join(sender: list, receiver: list, client: dict[int, dict]) -> tuple[dict[int, dict], int]:
    """Per seq, each stage's time in µs; the sender's link is "washington", the receiver's "moscow".
    Returns the joined stamps and how many seqs went out in more than one envelope."""
    first: dict[tuple[str, str], int] = {}  # (stage, key) -> the earliest stamp
    env_of_sealed: dict[int, str] = {}
    env_of_opened: dict[int, str] = {}
    timing: dict[tuple[str, str], int] = {}  # the Link's own durations: plan, seal, open (µs)
    for at, stage, kv in sender:
        if stage in ("taken", "durable", "receipt") and kv.get("link") == "washington":
            first.setdefault((stage, kv["seq"]), at)
        elif stage == "sealed" and kv.get("link") == "washington":
            if int(kv["seq"]) not in env_of_sealed:
                env_of_sealed[int(kv["seq"])] = kv["env"]
                first[("sealed", kv["seq"])] = at
                timing[("plan", kv["seq"])] = int(kv.get("plan_us", -1))
                timing[("seal", kv["seq"])] = int(kv.get("seal_us", -1))
        elif stage == "wire":
            first.setdefault(("wire", kv["env"]), at)
    resent = 0
    batches_s = [(at, kv["kind"], int(kv["took_us"])) for at, stage, kv in sender
                 if stage == "batch" and kv.get("link") == "washington"]
    batches_r = [(at, kv["kind"], int(kv["took_us"])) for at, stage, kv in receiver
                 if stage == "batch" and kv.get("link") == "moscow"]
    for at, stage, kv in receiver:
        if stage == "opened" and kv.get("link") == "moscow":
            if int(kv["seq"]) not in env_of_opened:
                env_of_opened[int(kv["seq"])] = kv["env"]
                first[("opened", kv["seq"])] = at
                timing[("open", kv["seq"])] = int(kv.get("open_us", -1))
        elif stage in ("received", "committed"):
            first.setdefault(("r-" + stage, kv["env"]), at)
        elif stage == "answered" and kv.get("link") == "moscow":
            first.setdefault(("answered", kv["seq"]), at)
    joined = {}
    for seq, c in client.items():
        s = str(seq)
        env_s, env_r = env_of_sealed.get(seq), env_of_opened.get(seq)
        if env_s is None or env_r is None:
            continue
        if env_s != env_r:
            resent += 1
        row = {"submit": c["submit"], "consumer": c["consumer"], "answer": c["answer"],
               "taken": first.get(("taken", s)), "durable": first.get(("durable", s)),
               "sealed": first.get(("sealed", s)), "wire": first.get(("wire", env_s)),
               "received": first.get(("r-received", env_r)), "opened": first.get(("opened", s)),
               "committed": first.get(("r-committed", env_r)), "answered": first.get(("answered", s)),
               "receipt": first.get(("receipt", s))}
        if all(v is not None for v in row.values()):
            # The links' transactions on the way: the sender's from its durable answer to the
            # seal, the receiver's from the envelope's arrival to the long poll's answer.
            row["batches_sender"] = [(k, t) for at, k, t in batches_s if row["durable"] <= at < row["sealed"]]
            row["batches_receiver"] = [(k, t) for at, k, t in batches_r if row["received"] <= at < row["answered"]]
            # Where the loops' time goes around the batches: the sender's outbox batch (the link
            # reads the new row) and the receiver's receive batch (the envelope's).
            out_b = next(((at, t) for at, k, t in batches_s if k == "outbox" and at >= row["durable"]), None)
            rcv_b = next(((at, t) for at, k, t in batches_r if k == "receive" and at >= row["received"]), None)
            if out_b and out_b[0] < row["sealed"] and rcv_b and rcv_b[0] <= row["opened"]:
                row["gaps"] = {"durable->outbox batch start": out_b[0] - row["durable"],
                               "outbox batch": out_b[1],
                               "outbox batch end->sealed": row["sealed"] - out_b[0] - out_b[1],
                               "of which the engine's poll_transmit": timing.get(("plan", s), -1),
                               "of which the seal (with its reservation)": timing.get(("seal", s), -1),
                               "received->receive batch start": rcv_b[0] - row["received"],
                               "receive batch start->opened": row["opened"] - rcv_b[0],
                               "of which Session::open": timing.get(("open", s), -1),
                               "receive batch": rcv_b[1],
                               "committed->answered": row["answered"] - row["committed"]}
            joined[seq] = row
    return joined, resent


def batch_summary(rows: list[list[tuple[str, int]]]) -> dict:
    """Per kind: transactions per message (mean) and their duration (p50, p99 in ms)."""
    kinds: dict[str, list[int]] = {}
    for r in rows:
        for k, t in r:
            kinds.setdefault(k, []).append(t)
    return {k: {"per_message": len(v) / len(rows), "p50_ms": percentile(v, 50) / 1000,
                "p99_ms": percentile(v, 99) / 1000} for k, v in sorted(kinds.items())}


def stats_ms(values_us: list[float]) -> dict:
    return {"p50": percentile(values_us, 50) / 1000, "p99": percentile(values_us, 99) / 1000, "n": len(values_us)}


def run_budget(bc: Path, bin_dir: Path, work: Path, messages: int = 200, chunks: int = 4) -> dict:
    log(f"budget: {messages} x 1 KiB one at a time through the interface, traced, in {chunks} chunks "
        f"alternating with the TLS 1.3 + SQLite floor")
    pair = Pair(bc, work / "budget", trace=True)
    consumer = Consumer(pair.a, "bench")
    receipts = Receipts(pair.b)
    consumer.start()
    receipts.start()
    client: dict[int, dict] = {}
    floor_one_way, floor_round_trip = [], []
    per_chunk = -(-messages // chunks)
    try:
        with Client(home=str(pair.b)) as p:
            for i in range(messages):
                if i % per_chunk == 0:
                    base = floor_run(bin_dir, work / f"budget-floor-{i}", per_chunk)
                    floor_one_way += base["one_way_samples_us"]
                    floor_round_trip += base["round_trip_samples_us"]
                t0 = time.time()
                answer = p.submit("washington", text=kib_text("budget", i), token=f"budget-{i}")
                t1 = time.time()
                seq = answer["seq"]
                t_consumer = consumer.wait(seq, 30)
                t_receipt = receipts.wait(seq, 30)
                client[seq] = {"submit": int(t0 * 1e6), "answer": int(t1 * 1e6), "consumer": int(t_consumer * 1e6),
                               "receipt_event": int(t_receipt * 1e6)}
    finally:
        consumer.stopping = receipts.stopping = True
        pair.stop()
    joined, resent = join(read_trace(pair.traces[1]), read_trace(pair.traces[0]), client)
    if len(joined) < 0.9 * messages:
        raise RuntimeError(f"budget: only {len(joined)} of {messages} messages have every stamp")
    stages = {}
    for a, b in STAGES:
        stages[f"{a}->{b}"] = stats_ms([r[b] - r[a] for r in joined.values()])
    e2e = [r["consumer"] - r["submit"] for r in joined.values()]
    durable_answer = [r["answer"] - r["submit"] for r in joined.values()]
    receipt = [r["receipt"] - r["committed"] for r in joined.values()]
    submit_receipt = [r["receipt"] - r["submit"] for r in joined.values()]
    return {"messages": messages, "joined": len(joined), "resent": resent, "chunks": chunks,
            "stages": stages, "submit_consumer_ms": stats_ms(e2e),
            "submit_answer_ms": stats_ms(durable_answer), "committed_receipt_ms": stats_ms(receipt),
            "submit_receipt_ms": stats_ms(submit_receipt),
            "gaps": {k: stats_ms(v) for k, v in (
                (k, [r["gaps"][k] for r in joined.values() if "gaps" in r and r["gaps"][k] >= 0])
                for k in next((r["gaps"] for r in joined.values() if "gaps" in r), {})) if v},
            "batches_sender": batch_summary([r["batches_sender"] for r in joined.values()]),
            "batches_receiver": batch_summary([r["batches_receiver"] for r in joined.values()]),
            "sum_p50_ms": sum(s["p50"] for s in stages.values()),
            "floor": {"messages": len(floor_one_way), "size": base["size"],
                      "one_way_ms": stats_ms(floor_one_way), "round_trip_ms": stats_ms(floor_round_trip)}}


def _channels(home: Path) -> list[dict]:
    with Client(home=str(home)) as c:
        links = c.call({"op": "status"})["links"]
    return [ch for link in links for ch in link["channels"]]


def _bytes_out(home: Path) -> int:
    return sum(ch["bytes_out"] for ch in _channels(home))


def run_flash(bc: Path, bin_dir: Path, work: Path, tries: int = 50, file_mb: int = 100, gap_s: float = 0.05) -> dict:
    d = work / "flash"
    pair = Pair(bc, d, trace=False)
    consumer = Consumer(pair.a, "flash")
    consumer.start()
    # A message holds at most 64 MiB: the ROUTINE load is two files of half the size each.
    files = []
    for k in range(2):
        f = d / f"routine-{k}.bin"
        with open(f, "wb") as out:
            left = file_mb * 1_000_000 // 2
            while left:
                n = min(left, 1 << 20)
                out.write(os.urandom(n))
                left -= n
        files.append(f)
    file_bytes = sum(f.stat().st_size for f in files)
    log(f"flash: {file_bytes / 1e6:.0f} MB of ROUTINE files queued, then {tries} FLASH 1 KiB texts one at a time")
    flash_ms, during = [], 0
    floor = floor_run(bin_dir, work / "flash-floor", 200)
    try:
        with Client(home=str(pair.b), timeout=120) as p:
            start_out = _bytes_out(pair.b)
            t_files = time.time()
            file_seqs = [p.submit("washington", file=str(f), precedence="routine")["seq"] for f in files]
            # Flowing: the link has carried a few MB of it.
            wait_for(lambda: _bytes_out(pair.b) - start_out > 4_000_000, 120, "the files to start flowing", interval=0.05)
            t_flowing = time.time()
            carried_at_flowing = _bytes_out(pair.b) - start_out
            in_flight, spans = [], []
            for i in range(tries):
                # Chunks handed out and not yet acked when the FLASH comes: what it queues behind.
                in_flight.append(sum(ch["in_flight"] for ch in _channels(pair.b)))
                t0 = time.time()
                seq = p.submit("washington", text=kib_text("flash", i), precedence="flash")["seq"]
                t1 = consumer.wait(seq, 60)
                flash_ms.append((t1 - t0) * 1000)
                spans.append((t0, t1))
                if not all(s in consumer.got for s in file_seqs):
                    during += 1
                time.sleep(gap_s)
            t_last_flash = time.time()
            for s in file_seqs:
                consumer.wait(s, 900)
            t_files_done = max(consumer.got[s] for s in file_seqs)
        sizes = [consumer.messages[s].get("size") for s in file_seqs]
        if sizes != [f.stat().st_size for f in files]:
            raise RuntimeError(f"flash: files delivered with sizes {sizes}")
    finally:
        consumer.stopping = True
        pair.stop()
        for f in files:
            f.unlink(missing_ok=True)
    # A try whose wait spans a file's arrival at the consumer waited for that file's delivery (the
    # receiver stores and delivers 50 MB in one batch).
    file_arrivals = [consumer.got[s] for s in file_seqs]
    spanning = [round(flash_ms[i]) for i, (a, b) in enumerate(spans) if any(a <= t <= b for t in file_arrivals)]
    seconds = t_files_done - t_files
    # The link's rate once the files flow (their submit, a store write of 100 MB, is not the
    # link's): what was left of them over the time it took. bytes_out counts envelope payloads.
    throughput = max(1.0, file_bytes - carried_at_flowing) / (t_files_done - t_flowing)
    envelope_ms = 2048 / throughput * 1000
    floor_p99 = percentile(floor["one_way_samples_us"], 99) / 1000
    floor_p50 = percentile(floor["one_way_samples_us"], 50) / 1000
    return {"tries": tries, "during_files": during, "file_bytes": file_bytes, "files_seconds": seconds,
            "flowing_after_s": t_flowing - t_files, "files_done_after_last_flash_s": t_files_done - t_last_flash,
            "throughput_bytes_per_s": throughput, "envelope_ms": envelope_ms,
            "in_flight_at_submit": {"p50": percentile(in_flight, 50), "max": max(in_flight)},
            "tries_spanning_a_file_arrival_ms": spanning,
            "without_spanning_ms": {"p50": percentile([x for i, x in enumerate(flash_ms) if not any(
                spans[i][0] <= t <= spans[i][1] for t in file_arrivals)] or [0.0], 50), "p99": percentile([
                x for i, x in enumerate(flash_ms) if not any(spans[i][0] <= t <= spans[i][1] for t in file_arrivals)]
                or [0.0], 99)},
            "flash_ms": {"p50": percentile(flash_ms, 50), "p99": percentile(flash_ms, 99),
                         "max": max(flash_ms), "samples": flash_ms},
            "floor_ms": {"p50": floor_p50, "p99": floor_p99, "messages": len(floor["one_way_samples_us"])},
            "bound_ms": floor_p99 + envelope_ms}


def run(bc: Path, bin_dir: Path, work: Path, parts: set[str], messages: int = 200, chunks: int = 4,
        flash_tries: int = 50, flash_mb: int = 100) -> dict:
    out = {}
    if "budget" in parts:
        out["budget"] = run_budget(bc, bin_dir, work, messages, chunks)
    if "flash" in parts:
        out["flash"] = run_flash(bc, bin_dir, work, flash_tries, flash_mb)
    return out


def _target(ratio: float, goal: float) -> str:
    return f"{ratio:.2f}x" + (f" (target {goal:.1f}x: met)" if ratio <= goal else f" (target {goal:.1f}x: missed)")


def table_rows(r: dict | None) -> list[tuple[str, str, str, str]]:
    rows = []
    if not r:
        return rows
    b = r.get("budget")
    if b:
        f = b["floor"]["one_way_ms"]
        e = b["submit_consumer_ms"]
        rows.append(("api: one 1 KiB message p50, submit -> consumer, direct channel, durable both ends",
                     f"{e['p50']:.2f} ms", f"{f['p50']:.2f} ms TLS 1.3 + 2 SQLite commits", _target(e["p50"] / f["p50"], 2.0)))
        rows.append(("api: one 1 KiB message p99, submit -> consumer, direct channel, durable both ends",
                     f"{e['p99']:.2f} ms", f"{f['p99']:.2f} ms TLS 1.3 + 2 SQLite commits", _target(e["p99"] / f["p99"], 3.0)))
    fl = r.get("flash")
    if fl:
        rows.append((f"FLASH p99 submit -> consumer behind {fl['file_bytes'] / 1e6:.0f} MB of ROUTINE files flowing "
                     f"({fl['tries']} tries)",
                     f"{fl['flash_ms']['p99']:.1f} ms",
                     f"{fl['bound_ms']:.2f} ms floor p99 {fl['floor_ms']['p99']:.2f} + one envelope {fl['envelope_ms']:.2f}",
                     _target(fl["flash_ms"]["p99"] / fl["bound_ms"], 1.0)))
    return rows


def budget_table_md(b: dict) -> list[str]:
    names = {"submit->taken": "submit -> the sender's loop took it (client write, control socket)",
             "taken->durable": "-> durable (the submission's group commit)",
             "durable->sealed": "-> sealed (the link reads its new row in a batch, plans, seals)",
             "sealed->wire": "-> on the wire (handed to the channel: net's send queue)",
             "wire->received": "-> received (TLS write, loopback, TLS read; net hands it up)",
             "received->opened": "-> opened (receiver's loop takes it, session opens it)",
             "opened->committed": "-> committed (engine, inbox write, the batch's commit)",
             "committed->answered": "-> answered (ACK + receipt sent, then the long poll answered)",
             "answered->consumer": "-> delivered to the consumer (socket, client read and parse)"}
    f = b["floor"]["one_way_ms"]
    lines = ["| stage | p50 | p99 |", "| --- | --- | --- |"]
    for k, s in b["stages"].items():
        lines.append(f"| {names[k]} | {s['p50']:.3f} ms | {s['p99']:.3f} ms |")
    lines.append(f"| sum of the stage medians | {b['sum_p50_ms']:.3f} ms | - |")
    e = b["submit_consumer_ms"]
    lines.append(f"| submit -> consumer, measured per message | {e['p50']:.3f} ms | {e['p99']:.3f} ms |")
    lines.append(f"| floor: TLS 1.3 + 2 durable SQLite commits, one way (same run) | {f['p50']:.3f} ms | {f['p99']:.3f} ms |")
    c = b["committed_receipt_ms"]
    lines.append(f"| receipt back: receiver's commit -> the sender's engine confirmed it | {c['p50']:.3f} ms | {c['p99']:.3f} ms |")
    sa = b["submit_answer_ms"]
    lines.append(f"| (the producer's durable answer: submit -> answer read) | {sa['p50']:.3f} ms | {sa['p99']:.3f} ms |")
    lines.append("")

    def txs(d: dict) -> str:
        return "; ".join(f"{k}: {v['per_message']:.2f} per message, each p50 {v['p50_ms']:.2f} ms, p99 "
                         f"{v['p99_ms']:.2f} ms" for k, v in d.items()) or "none"
    lines.append(f"Link batches (one store transaction each) on a message's way, from the trace's `batch` stamps. "
                 f"Sender, durable -> sealed: {txs(b['batches_sender'])}. Receiver, received -> answered: "
                 f"{txs(b['batches_receiver'])}. The submission's own group commit (taken -> durable) is the "
                 f"node's, not a link batch.")
    if b.get("gaps"):
        lines.append("")
        lines.append("Inside the stages, from the same stamps (p50 / p99): " + "; ".join(
            f"{k} {v['p50']:.3f} / {v['p99']:.3f} ms" for k, v in b["gaps"].items()) + ".")
    return lines


def details_md(r: dict | None) -> list[str]:
    if not r:
        return []
    out = []
    b = r.get("budget")
    if b:
        out.append(f"- Latency budget (bench/budget_bench.py): {b['messages']} x 1 KiB one at a time through the Python "
                   f"client (each after the previous reached the consumer and its receipt came back), both nodes with "
                   f"BC_TRACE_FILE (util/trace.h); {b['joined']} messages had every stamp, {b['resent']} went out in more "
                   f"than one envelope. Floor: {b['floor']['messages']} messages of {b['floor']['size']} B in "
                   f"{b['chunks']} runs alternating with the messages; round trip with ack p50 "
                   f"{b['floor']['round_trip_ms']['p50']:.2f} ms. The table is in the section \"Latency budget\".")
    fl = r.get("flash")
    if fl:
        out.append(f"- FLASH behind files (bench/budget_bench.py): {fl['file_bytes'] / 1e6:.0f} MB of ROUTINE in two "
                   f"files (a message holds at most 64 MiB), flowing {fl['flowing_after_s']:.1f} s after their submit; "
                   f"{fl['tries']} FLASH 1 KiB texts one at a time, {fl['during_files']} of them before both files were "
                   f"delivered. FLASH submit -> consumer p50 {fl['flash_ms']['p50']:.1f} ms, p99 "
                   f"{fl['flash_ms']['p99']:.1f} ms (max {fl['flash_ms']['max']:.1f}). When each FLASH was submitted the "
                   f"sender had p50 {fl['in_flight_at_submit']['p50']} (max {fl['in_flight_at_submit']['max']}) file chunks "
                   f"handed out and not yet acked. Tries whose wait spanned a file's arrival at the consumer: "
                   f"{', '.join(f'{x} ms' for x in fl['tries_spanning_a_file_arrival_ms']) or 'none'}; the others p50 "
                   f"{fl['without_spanning_ms']['p50']:.1f} ms, p99 {fl['without_spanning_ms']['p99']:.1f} ms. The files took {fl['files_seconds']:.1f} s from submit to both "
                   f"delivered; once flowing the link moved them at {fl['throughput_bytes_per_s'] / 1e6:.2f} MB/s, "
                   f"so one 2048-byte envelope is {fl['envelope_ms']:.3f} ms of the link. Floor (200 messages before): "
                   f"one way p50 {fl['floor_ms']['p50']:.2f} ms, p99 {fl['floor_ms']['p99']:.2f} ms.")
    return out


if __name__ == "__main__":
    import argparse
    import shutil
    import tempfile

    from bench_common import exit_on_signals, stop_all
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=str(Path(__file__).resolve().parent.parent / "build" / "bin"))
    ap.add_argument("--only", default="budget,flash")
    ap.add_argument("--messages", type=int, default=200)
    ap.add_argument("--flash-tries", type=int, default=50)
    ap.add_argument("--flash-mb", type=int, default=100)
    ap.add_argument("--json", default="", help="write the raw results here")
    args = ap.parse_args()
    exit_on_signals()
    tmp = Path(tempfile.mkdtemp(prefix="backchannel-budget-"))
    try:
        res = run(Path(args.bin) / "backchannel", Path(args.bin), tmp, set(args.only.split(",")), args.messages,
                  flash_tries=args.flash_tries, flash_mb=args.flash_mb)
    finally:
        stop_all()
        shutil.rmtree(tmp, ignore_errors=True)
    for row in table_rows(res):
        print(" | ".join(row))
    if res.get("budget"):
        print("\n".join(budget_table_md(res["budget"])))
    print("\n".join(details_md(res)))
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))
