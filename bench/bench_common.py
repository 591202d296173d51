"""What the benchmark drivers share: their children (all stopped on exit), logging, free
ports, percentiles, waiting and the report. Used by every Python driver in bench/."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Every long-running child, so that cleanup can end exactly these and nothing else.
_children: list[subprocess.Popen] = []


def log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def spawn(args: list[str], **kw) -> subprocess.Popen:
    p = subprocess.Popen(args, **kw)
    _children.append(p)
    return p


def stop(p: subprocess.Popen) -> None:
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if p in _children:
        _children.remove(p)


def stop_all() -> None:
    for p in list(reversed(_children)):
        stop(p)


def _on_signal(signum, _frame):
    # Turn SIGTERM/SIGINT into an exception so every finally block (and stop_all) runs.
    raise SystemExit(128 + signum)


def exit_on_signals() -> None:
    """Call once at the start of main(): SIGTERM and SIGINT then unwind through every finally
    block, so each driver stops the processes it started."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _on_signal)


def print_report(rows: list[list[str]], details: list[str], raw: dict, json_path: str) -> None:
    """Prints the table rows and the details under them; writes the raw results when asked."""
    for row in rows:
        print(" | ".join(row))
    print("\n".join(details))
    if json_path:
        Path(json_path).write_text(json.dumps(raw, indent=1))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile: p99 of 200 samples is the 198th smallest, a real sample."""
    v = sorted(values)
    rank = max(1, min(len(v), int(-(-p * len(v) // 100))))
    return v[rank - 1]


def now_ms() -> float:
    # The nodes stamp sent_at_ms/delivered_at_ms with the system clock; use the same clock.
    return time.time() * 1000.0


def wait_for(cond, timeout_s: float, what: str, interval: float = 0.02) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(interval)


def rss_kib(pid: int) -> int:
    """The resident set of a running process, in KiB (VmRSS of /proc/PID/status)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def print_part(r: dict, table_rows, details_md) -> None:
    """What a part run on its own prints: its raw results, then its table rows and details."""
    print(json.dumps(r, indent=2))
    for row in table_rows(r):
        print(" | ".join(row))
    for line in details_md(r):
        print(line)
