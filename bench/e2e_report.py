"""The report of bench/e2e_bench.py: its results (a dict of parts) as a plain-text table and as
docs/benchmarks.md. Each part module (api_bench, budget_bench, health_bench, cover_bench,
memory_bench) renders its own rows and details; this file renders the rest and joins them.
"""

from __future__ import annotations

import os
import platform
import statistics
from pathlib import Path

def machine_notes() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{os.cpu_count()} cores ({cpu}), Linux {platform.release()}, shared with other builds and "
            f"tests while measuring (noisy); loopback only; SQLite files on the local disk")


def secs(values: list[float]) -> str:
    return ", ".join(f"{v:.2f} s" for v in values)


def fmt_rate(v: float) -> str:
    return f"{v:,.0f}/s"


def build_table(r: dict) -> list[tuple[str, str, str, str]]:
    rows = []
    s = r.get("session")
    if s:
        m = s["medians"]
        for op, ours, raw in (("sealed", "BM_SessionSeal", "BM_RawAeadSeal"), ("opened", "BM_SessionOpen", "BM_RawAeadOpen")):
            rows.append((f"session envelopes {op} per second (1952 B payload)", fmt_rate(m[ours]),
                         f"{fmt_rate(m[raw])} raw XChaCha20-Poly1305", f"{m[ours] / m[raw]:.2f}x"))
        h = s.get("hostile_ms", {})
        before, after = h.get(2_000_001), min((v for k, v in h.items() if k != 2_000_001), default=None)
        if before and after:
            rows.append(("worst-case CPU of one hostile envelope (authentic header, PN = N = 10^6, forged body)",
                         f"{after:.1f} ms", f"{before:.0f} ms before the per-envelope bound (10^6 per walk)",
                         f"{after / before:.3f}x"))
    k = r.get("mlkem")
    if k:
        m = k["medians"]
        for what, ours, base, label in (
                ("keygen", "BM_MlKemKeygen", "BM_X25519Keygen", "X25519 key pairs"),
                ("encaps", "BM_MlKemEncaps", "BM_X25519EphemeralAgree", "X25519 ephemeral key pair + DH"),
                ("decaps", "BM_MlKemDecaps", "BM_X25519Agree", "X25519 DH")):
            rows.append((f"ML-KEM-768 {what} per second", fmt_rate(m[ours]),
                         f"{fmt_rate(m[base])} {label} (libsodium)", f"{m[ours] / m[base]:.2f}x"))
    pq = r.get("pq")
    if pq and len(pq["starts_per_s"]) == 2:
        st = pq["starts_per_s"]
        rows.append(("session starts per second, HELLO made and accepted (hybrid, ML-KEM-768 + X25519)",
                     fmt_rate(st["hybrid"]), f"{fmt_rate(st['classical'])} classical (X25519 alone)",
                     f"{st['hybrid'] / st['classical']:.2f}x"))
    if pq:
        kem_bytes = 1184 + 1088  # encapsulation key + ciphertext
        for room, v in sorted(pq["step"].items(), reverse=True):
            rows.append((f"wire bytes per PQ ratchet step, {room} B free per envelope",
                         f"{v['bytes']:,.0f} B in {v['envelopes']:.1f} envelopes",
                         f"{kem_bytes:,} B of key + ciphertext", f"{v['bytes'] / kem_bytes:.2f}x"))
    lat, base = r.get("latency"), r.get("tls_sqlite")
    if lat and base:
        for p in ("p50", "p99"):
            b_ms = base["one_way_us"][p] / 1000
            rows.append((f"one-message latency {p}, `send` start -> in receiver's inbox",
                         f"{lat['from_send_start_ms'][p]:.0f} ms",
                         f"{b_ms:.1f} ms TLS 1.3 + 2 SQLite commits", f"{lat['from_send_start_ms'][p] / b_ms:.1f}x"))
        for p in ("p50", "p99"):
            b_ms = base["one_way_us"][p] / 1000
            rows.append((f"one-message latency {p}, outbox commit -> in receiver's inbox",
                         f"{lat['from_commit_ms'][p]:.0f} ms",
                         f"{b_ms:.1f} ms TLS 1.3 + 2 SQLite commits", f"{lat['from_commit_ms'][p] / b_ms:.1f}x"))
    tp, mq = r.get("throughput"), r.get("mosquitto")
    if tp and mq:
        live, backlog = tp["live"], tp["backlog"]
        rows.append((f"1 KiB msgs/s, first `send` -> last delivered ({live['messages']} msgs, one process each)",
                     fmt_rate(live["msgs_per_s"]), f"{fmt_rate(mq['msgs_per_s'])} mosquitto QoS 1",
                     f"{live['msgs_per_s'] / mq['msgs_per_s']:.3f}x"))
        rows.append((f"1 KiB msgs/s, backlog drain after node start ({backlog['messages']} msgs)",
                     fmt_rate(backlog["msgs_per_s"]), f"{fmt_rate(mq['msgs_per_s'])} mosquitto QoS 1",
                     f"{backlog['msgs_per_s'] / mq['msgs_per_s']:.3f}x"))
    rl = r.get("relay")
    if rl:
        ours, nats = rl["relay"], rl["nats"]
        rows.append((f"relay: 2 KiB durable puts/s delivered to a subscriber ({rl['messages']} msgs, "
                     f"{rl['window']} in flight)", fmt_rate(ours["msgs_per_s"]),
                     f"{fmt_rate(nats['msgs_per_s'])} NATS JetStream (file)",
                     f"{ours['msgs_per_s'] / nats['msgs_per_s']:.2f}x"))
        for p in ("p50", "p99"):
            o, n = ours["put_delivered_us"][p] / 1000, nats["put_delivered_us"][p] / 1000
            rows.append((f"relay: one message {p}, put -> delivered to the subscriber", f"{o:.2f} ms",
                         f"{n:.2f} ms NATS JetStream (file)", f"{o / n:.1f}x"))
        w2 = rl["relay_window2ms"]
        rows.append(("relay commit window 0 (default): puts/s delivered", fmt_rate(ours["msgs_per_s"]),
                     f"{fmt_rate(w2['msgs_per_s'])} window 2 ms", f"{ours['msgs_per_s'] / w2['msgs_per_s']:.2f}x"))
        o, t = ours["put_ok_us"]["p50"] / 1000, w2["put_ok_us"]["p50"] / 1000
        rows.append(("relay commit window 0 (default): lone put -> durable OK, p50", f"{o:.2f} ms",
                     f"{t:.2f} ms window 2 ms", f"{o / t:.2f}x"))
        redis = rl.get("extra", {}).get("redis")
        if redis:
            rate = statistics.median(x["delivered_per_s"] for x in redis)
            ratio = ours["msgs_per_s"] / rate
            rows.append((f"relay vs a broker durable per message: 2 KiB puts/s delivered to a subscriber "
                         f"({rl['messages']} msgs, {rl['window']} in flight)", fmt_rate(ours["msgs_per_s"]),
                         f"{fmt_rate(rate)} Redis Streams (appendfsync always)",
                         f"{ratio:.2f}x" + (" (target 1.0x: met)" if ratio >= 1.0 else " (target 1.0x: missed)")))
    ch = r.get("channels")
    if ch:
        up, killed = ch["all-up"], ch["relay1-killed"]
        for p in ("p50", "p99"):
            k, u = killed["from_send_start_ms"][p], up["from_send_start_ms"][p]
            rows.append((f"one-message latency {p}, `send` start -> inbox, relay 1 of 3 channels SIGKILLed",
                         f"{k:.0f} ms", f"{u:.0f} ms all 3 channels up", f"{k / u:.2f}x"))
    return rows


def render(r: dict, rows: list[tuple[str, str, str, str]]) -> tuple[str, str]:
    header = ("metric", "backchannel", "baseline (measured in the same run)", "ratio")
    widths = [max(len(x[i]) for x in rows + [header]) for i in range(4)]
    sep = "-+-".join("-" * w for w in widths)
    text = "\n".join([" | ".join(h.ljust(w) for h, w in zip(header, widths)), sep] +
                     [" | ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows])

    md = ["# Benchmarks", "",
          f"Measured {r['date']} by `scripts/bench` (about {r['elapsed_s']:.0f} s). Machine: {r['machine']}."
          + (f" {r['note']}" if r["note"] else ""),
          "Medians are quoted; latencies are percentiles of one run. Ratios are backchannel / baseline "
          "(above 1 is faster for rates, slower for latencies). What each row includes is in "
          "[bench/README.md](../bench/README.md).", "",
          "| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    md += ["| " + " | ".join(row) + " |" for row in rows]
    md += ["", "## Details", ""]
    s = r.get("session")
    if s:
        cv = ", ".join(f"{k} {v * 100:.1f}%" for k, v in sorted(s["cv"].items()))
        md.append(f"- Session: Google Benchmark, {r['reps']} repetitions, median items/s; coefficient of "
                  f"variation: {cv}.")
    k = r.get("mlkem")
    if k:
        cv = ", ".join(f"{name} {v * 100:.1f}%" for name, v in sorted(k["cv"].items()))
        md.append(f"- ML-KEM-768: Google Benchmark, {r['reps']} repetitions, median items/s (CPU time) of "
                  f"mlkem::keygen / encaps / decaps with fresh randomness and the result in a locked buffer, "
                  f"against raw libsodium X25519; coefficient of variation: {cv}.")
    lat, base = r.get("latency"), r.get("tls_sqlite")
    if lat and base:
        sc, rr = lat["send_command_ms"], lat["receipt_rtt_ms"]
        md.append(f"- Latency: {lat['from_send_start_ms']['n']} messages one at a time (each after the previous "
                  f"arrived; 5 warm-up messages first). The `send` command itself (process start, store open, "
                  f"durable commit, node notified) took p50 {sc['p50']:.0f} ms, p99 {sc['p99']:.0f} ms. "
                  + (f"Signed receipt back at the sender: p50 {rr['p50']:.0f} ms, p99 {rr['p99']:.0f} ms after "
                     f"the outbox commit. " if rr else "")
                  + "Node timestamps have 1 ms resolution.")
        md.append(f"- Latency baseline: {base['messages']} messages of {base['size']} B (the envelope size), in "
                  f"{base['chunks']} runs alternating with backchannel's chunks and pooled; "
                  f"one way p50 {base['one_way_us']['p50'] / 1000:.2f} ms, p99 {base['one_way_us']['p99'] / 1000:.2f} ms;"
                  f" round trip with ack p50 {base['round_trip_us']['p50'] / 1000:.2f} ms, p99 "
                  f"{base['round_trip_us']['p99'] / 1000:.2f} ms. No process start: it is one program.")
    tp, mq = r.get("throughput"), r.get("mosquitto")
    if tp and mq:
        live, backlog = tp["live"], tp["backlog"]
        tail = live["queue_complete_to_all_delivered_s"]
        tail_text = (f"the last was delivered {tail * 1000:.0f} ms after the queue was complete" if tail > 0 else
                     "the nodes kept up: the last message was delivered before its `send` returned")
        md.append(f"- Throughput, live: queueing {live['messages']} messages with one `send` each took "
                  f"{live['queue_s']:.1f} s ({live['messages'] / live['queue_s']:.0f} sends/s); {tail_text} "
                  f"({live['first_send_to_last_delivered_s']:.1f} s in all).")
        md.append(f"- Throughput, backlog: {backlog['messages']} messages queued with the sender's node stopped, "
                  f"{len(backlog['rounds'])} rounds; from starting that node (connect and session resume "
                  f"included) to the last delivery: {secs(backlog['rounds'])} (median quoted).")
        md.append(f"- mosquitto {r.get('mosquitto_version', '')}: {mq['messages']} messages, "
                  f"{len(mq['rounds'])} rounds with a fresh broker each: {secs(mq['rounds'])} (median quoted); "
                  f"one mosquitto_pub -l process, persistent QoS 1 subscriber; persistence is a snapshot after "
                  f"every change (fsync'd, but taken after the PUBACK, and the clients keep nothing on disk): weaker "
                  f"durability than backchannel's commit at both ends.")
    rl = r.get("relay")
    if rl:
        ours, w2, nats = rl["relay"], rl["relay_window2ms"], rl["nats"]

        def rates(rs):
            return ", ".join(f"{x['msgs_per_s']:,.0f}" for x in rs["rounds"])

        md.append(f"- Relay (`relay_bench`, one `relay run` daemon, release build): {rl['messages']} envelopes of "
                  f"2048 B per round, at most {rl['window']} PUTs awaiting their OK (sent only once the envelope's "
                  f"transaction has committed, synchronous=FULL); the subscriber ACKs in batches of 64. "
                  f"{len(ours['rounds'])} rounds alternating relay (commit window 0, the default), relay (2 ms), "
                  f"NATS, each with a fresh server; msgs/s per round: relay {rates(ours)}; window 2 ms {rates(w2)}; "
                  f"NATS {rates(nats)} (medians quoted). Durable OKs/s: relay {ours['acked_per_s']:,.0f}, window "
                  f"2 ms {w2['acked_per_s']:,.0f}, NATS PubAcks {nats['acked_per_s']:,.0f}. The relay's per-connection "
                  f"rate limit is lifted for the run (`[limits] rate`).")
        md.append(f"- Relay latency: {rl['latency_messages']} envelopes one at a time per round (each after the "
                  f"previous was delivered and acknowledged), medians over rounds of each round's percentile. "
                  f"Put -> durable OK: relay (window 0) p50 {ours['put_ok_us']['p50'] / 1000:.2f} ms, p99 "
                  f"{ours['put_ok_us']['p99'] / 1000:.2f} ms; window 2 ms p50 {w2['put_ok_us']['p50'] / 1000:.2f} ms, "
                  f"p99 {w2['put_ok_us']['p99'] / 1000:.2f} ms; NATS PubAck p50 {nats['put_ok_us']['p50'] / 1000:.2f} "
                  f"ms, p99 {nats['put_ok_us']['p99'] / 1000:.2f} ms. Put -> delivered, window 2 ms: p50 "
                  f"{w2['put_delivered_us']['p50'] / 1000:.2f} ms, p99 {w2['put_delivered_us']['p99'] / 1000:.2f} ms.")
        md.append(f"- Commit window: the relay's default `[commit] window` is 0 (it was 2 ms until issue 5's "
                  f"benchmark): a PUT waits for no one, yet PUTs that arrive while a transaction commits share the "
                  f"next one, so batching happens under load anyway. In this run 2 ms gave "
                  f"{w2['msgs_per_s']:,.0f} puts/s against {ours['msgs_per_s']:,.0f} with 0, and a lone PUT's "
                  f"durable OK took p50 {w2['put_ok_us']['p50'] / 1000:.2f} ms against "
                  f"{ours['put_ok_us']['p50'] / 1000:.2f} ms"
                  + (": the wait costs latency and buys no throughput here." if w2["msgs_per_s"] < 1.1 * ours["msgs_per_s"]
                     else f"; 2 ms bought {w2['msgs_per_s'] / ours['msgs_per_s'] - 1:.0%} throughput in this run."))
        redis = rl.get("extra", {}).get("redis")
        if redis:
            delivered = ", ".join(f"{x['delivered_per_s']:,.0f}" for x in redis)
            acked = ", ".join(f"{x['msgs_per_s']:,.0f}" for x in redis)
            md.append(f"- Relay against Redis {redis[0]['version']} Streams (bench/api_bench.py's runner, one round "
                      f"after each NATS round, a fresh server each): appendonly yes, appendfsync always, "
                      f"{redis[0]['messages']} entries of {redis[0]['size']} B, XADD pipelined with {redis[0]['window']} "
                      f"in flight (the relay's window), one consumer group reader (XREADGROUP COUNT 1000, XACK per "
                      f"batch); counted to the read that returned the last entry, as the relay's to the last DELIVER. "
                      f"Entries/s per round: {delivered} (to the last XACK: {acked}; medians quoted). The Redis "
                      f"clients are Python (bench/api_bench.py's RESP client), the relay's C++ (relay_bench): "
                      f"Redis's figure is what this client gets from it, a lower bound of the server's.")
        md.append(f"- NATS: nats-server {r.get('nats_version', '')} with `-js`, stream on file storage, explicit-ack "
                  f"durable push consumer, every message acked; client: bench/e2e_bench.py's own minimal Python "
                  f"client (text protocol), publisher and consumer on two connections. Its durability is weaker "
                  f"than the relay's: this nats-server writes each message to its file store before the PubAck but "
                  f"does not fsync it then (it has no per-message sync option). Duplicates seen: relay "
                  f"{ours['duplicates']}, NATS {nats['duplicates']}.")
    ch = r.get("channels")
    if ch:
        up, killed = ch["all-up"], ch["relay1-killed"]
        md.append(f"- Channel loss: one link over direct + 2 relays (a node's real `relay add` and `node run`), "
                  f"{up['n']} messages one at a time (as the latency rows) with all three up and {killed['n']} with "
                  f"relay 1 SIGKILLed, in {up['chunks']} alternating chunks each (relay 1 restarted and seen up on "
                  f"both sides before each all-up chunk; each killed chunk starts right after the SIGKILL, so the "
                  f"nodes notice the loss during it). Outbox commit -> inbox: "
                  f"all up p50 {up['from_commit_ms']['p50']:.0f} ms, p99 {up['from_commit_ms']['p99']:.0f} ms; relay "
                  f"1 killed p50 {killed['from_commit_ms']['p50']:.0f} ms, p99 "
                  f"{killed['from_commit_ms']['p99']:.0f} ms. Channels the sender saw at the end of the last killed chunk: "
                  f"{', '.join(f'{k} {v}' for k, v in sorted(killed['channels_after'].items()))}.")
    md.append("- Noisy: everything end to end (other builds share the 2 cores); the p99 rows most of all. "
              "The session rows are CPU-bound and steadier.")
    return text, "\n".join(md) + "\n"


# Part modules that render their own rows (table_rows) and details (details_md), in report order.
_PART_MODULES = ("api", "budget", "health", "cover", "memory", "load")


def report(r: dict) -> tuple[str, str]:
    """Returns the plain-text table and the Markdown report of a finished run."""
    import importlib
    modules = {name: importlib.import_module(f"{name}_bench") for name in _PART_MODULES if r.get(name)}
    rows = build_table(r)
    for name, module in modules.items():
        rows += module.table_rows(r[name])
    text, md = render(r, rows)
    for name, module in modules.items():
        md += "".join(line + "\n" for line in module.details_md(r[name]))
    if r.get("budget", {}).get("budget"):
        budget = modules["budget"].budget_table_md(r["budget"]["budget"])
        budget_md = ["", "## Latency budget (issue 12)", "",
                     "One 1 KiB message on the direct channel, stage by stage (bench/budget_bench.py, stamps from "
                     "both nodes' BC_TRACE_FILE and the clients):", ""] + budget
        md += "".join(line + "\n" for line in budget_md)
        text += "\n\n" + "\n".join(budget)
    return text, md
