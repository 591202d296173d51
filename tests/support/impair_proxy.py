"""An impairing TCP forwarder for the network-fault suite (tests/integration/test_faults.py).

Runs in the router namespace: each --map LISTEN_PORT=HOST:PORT accepts on 0.0.0.0:LISTEN_PORT
and forwards every connection to HOST:PORT. It passes bytes straight through until told to
delay them; then every chunk read from either side waits a random time in [MIN, MAX] ms before
it is written on. A TCP stream cannot be reordered, so a chunk never overtakes the one before
it (it leaves at the later of its own due time and its predecessor's): the jitter shows up as
uneven spacing within a connection, and as reordering only between connections, i.e. between
the channels of a link. Bytes keep being read while earlier chunks wait, so the delay does not
throttle a stream (up to MAX_BUFFERED bytes per direction, then the reader waits).

Commands, one per line on stdin, each answered by a line on stdout:
    delay MIN_MS MAX_MS   -> "ok delay MIN_MS MAX_MS"
    clear                 -> "ok clear"
    stats                 -> one JSON line: connections accepted, failed dials, bytes, chunks
"ready" is printed once every port listens. End of stdin ends the proxy.
"""
import argparse
import asyncio
import json
import random
import sys
import time

MAX_BUFFERED = 4 << 20
CHUNK = 65536
LINGER_SECONDS = 2.0


class Impairment:
    def __init__(self):
        self.delay_ms = None  # (min, max) or None: pass through
        self.rng = random.Random()
        self.stats = {"accepted": 0, "dial_failures": 0, "bytes": 0, "chunks": 0, "delayed_chunks": 0}

    def due(self, now):
        if self.delay_ms is None:
            return now
        low, high = self.delay_ms
        return now + self.rng.uniform(low, high) / 1000.0


async def pump(reader, writer, impairment):
    """Copies reader to writer, each chunk held until its due time (never before the previous
    chunk's)."""
    queue = asyncio.Queue()
    buffered = [0]
    room = asyncio.Event()
    room.set()

    async def read_side():
        try:
            while True:
                await room.wait()
                data = await reader.read(CHUNK)
                if not data:
                    break
                due = impairment.due(time.monotonic())
                if impairment.delay_ms is not None:
                    impairment.stats["delayed_chunks"] += 1
                buffered[0] += len(data)
                if buffered[0] >= MAX_BUFFERED:
                    room.clear()
                await queue.put((due, data))
        except (ConnectionError, OSError):
            pass
        await queue.put(None)

    async def write_side():
        last_due = 0.0
        try:
            while True:
                item = await queue.get()
                if item is None:
                    break
                due, data = item
                due = max(due, last_due)
                last_due = due
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                writer.write(data)
                await writer.drain()
                impairment.stats["bytes"] += len(data)
                impairment.stats["chunks"] += 1
                buffered[0] -= len(data)
                if buffered[0] < MAX_BUFFERED:
                    room.set()
            if writer.can_write_eof():
                writer.write_eof()
        except (ConnectionError, OSError):
            pass

    reading = asyncio.ensure_future(read_side())
    await write_side()
    reading.cancel()


async def serve_connection(client_reader, client_writer, target, impairment, connect_timeout):
    impairment.stats["accepted"] += 1
    try:
        upstream_reader, upstream_writer = await asyncio.wait_for(
            asyncio.open_connection(*target), connect_timeout)
    except (OSError, asyncio.TimeoutError):
        impairment.stats["dial_failures"] += 1
        client_writer.close()
        return
    pumps = [asyncio.ensure_future(pump(client_reader, upstream_writer, impairment)),
             asyncio.ensure_future(pump(upstream_reader, client_writer, impairment))]
    # One side finished (closed, reset, or went silent and closed): the other may still hold
    # delayed chunks, so it gets a moment; then both close, rather than waiting on a peer that
    # a cut keeps silent for the kernel's retransmission timeout.
    _, pending = await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
    if pending:
        await asyncio.wait(pending, timeout=LINGER_SECONDS)
    for p in pending:
        p.cancel()
    for w in (client_writer, upstream_writer):
        w.close()


def parse_map(text):
    listen, _, target = text.partition("=")
    host, _, port = target.rpartition(":")
    if not listen.isdigit() or not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"--map wants LISTEN_PORT=HOST:PORT, not {text!r}")
    return int(listen), (host, int(port))


def command(line, impairment):
    words = line.split()
    if words[:1] == ["delay"] and len(words) == 3:
        low, high = float(words[1]), float(words[2])
        if not 0 <= low <= high:
            return f"error delay wants 0 <= MIN <= MAX: {line}"
        impairment.delay_ms = (low, high)
        return f"ok {line}"
    if words == ["clear"]:
        impairment.delay_ms = None
        return "ok clear"
    if words == ["stats"]:
        return json.dumps(impairment.stats)
    return f"error unknown command: {line}"


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--map", type=parse_map, action="append", required=True)
    parser.add_argument("--connect-timeout", type=float, default=5.0)
    parser.add_argument("--seed", type=int)
    args = parser.parse_args()
    impairment = Impairment()
    if args.seed is not None:
        impairment.rng.seed(args.seed)
    servers = []
    for listen, target in args.map:
        servers.append(await asyncio.start_server(
            lambda r, w, t=target: serve_connection(r, w, t, impairment, args.connect_timeout),
            "0.0.0.0", listen, reuse_address=True))
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    while True:
        line = await stdin.readline()
        if not line:
            break
        text = line.decode().strip()
        if text:
            print(command(text, impairment), flush=True)
    for s in servers:
        s.close()


if __name__ == "__main__":
    asyncio.run(main())
