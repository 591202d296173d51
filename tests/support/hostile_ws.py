"""A hostile WebSocket-over-TLS client for tests of the daemons' listeners (asyncio).

It does what a stranger on the network can do to a node or a relay: TCP connections that
never speak, TLS with a key nobody knows, a WebSocket upgrade and then pings, floods of empty
continuation frames, requests it never reads the answers to. Frames are built here from
RFC 6455 (client frames are masked); nothing of the project's own code is used, so the tests
see the daemons as a stranger does.
"""
import asyncio
import os
import ssl
import struct
import subprocess
import time

PATH = "/bc/v1"

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def make_client_key(directory):
    """A fresh Ed25519 key and self-signed certificate (any key is a stranger's)."""
    key = os.path.join(directory, "stranger.key")
    cert = os.path.join(directory, "stranger.crt")
    if not os.path.exists(cert):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ed25519", "-nodes", "-keyout", key,
                        "-out", cert, "-subj", "/CN=stranger", "-days", "2"],
                       check=True, capture_output=True)
    return cert, key


def tls_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the daemon's key is pinned by real clients, not here
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(cert, key)
    return ctx


def frame(opcode, payload=b"", fin=True):
    """One masked client frame."""
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def open_tcp(host, port, source=None):
    local = (source, 0) if source else None
    return await asyncio.open_connection(host, port, local_addr=local)


async def open_ws(host, port, ctx, source=None, timeout=20):
    """TLS, then the WebSocket upgrade on PATH; returns (reader, writer) once 101 came back."""
    local = (source, 0) if source else None
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(host, port, ssl=ctx, server_hostname=None, local_addr=local),
        timeout)
    request = (f"GET {PATH} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n")
    writer.write(request.encode())
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    if not head.startswith(b"HTTP/1.1 101"):
        writer.close()
        raise ConnectionError(head.split(b"\r\n")[0].decode(errors="replace"))
    return reader, writer


async def read_frame(reader):
    """(opcode, payload) of one server frame (servers do not mask)."""
    b0, b1 = await reader.readexactly(2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack(">H", await reader.readexactly(2))[0]
    elif n == 127:
        n = struct.unpack(">Q", await reader.readexactly(8))[0]
    return b0 & 0x0F, await reader.readexactly(n)


async def hold(reader, writer, ping_every=0.2, limit=60.0):
    """Stays as long as the server lets it: answers pings, pings itself now and then, never
    sends a message. Returns when the server ended the connection (or after `limit`)."""
    async def pinger():
        while True:
            await asyncio.sleep(ping_every)
            writer.write(frame(OP_PING, b"p"))
            await writer.drain()

    task = asyncio.create_task(pinger())
    try:
        end = time.monotonic() + limit
        while time.monotonic() < end:
            try:
                opcode, payload = await asyncio.wait_for(read_frame(reader), end - time.monotonic())
            except (asyncio.IncompleteReadError, ConnectionError, OSError, ssl.SSLError,
                    asyncio.TimeoutError):
                return
            if opcode == OP_PING:
                writer.write(frame(OP_PONG, payload))
            elif opcode == OP_CLOSE:
                return
    finally:
        task.cancel()
        try:
            await task
        except (asyncio.CancelledError, ConnectionError, OSError, ssl.SSLError):
            pass
        writer.close()


async def closed_by_peer(reader, limit):
    """Reads and drops whatever comes until EOF; True if the peer closed within `limit`."""
    try:
        async with asyncio.timeout(limit):
            while await reader.read(65536):
                pass
        return True
    except TimeoutError:  # before OSError: it is one
        return False
    except (ConnectionError, OSError, ssl.SSLError):
        return True


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid):
    """User + system CPU time of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def loopback_sources(count):
    """Distinct loopback source addresses (127.0.0.2 ...): all of 127/8 reaches lo on Linux, so
    a test can be many sources at once."""
    return [f"127.0.{1 + i // 250}.{2 + i % 250}" for i in range(count)]


def raise_nofile(want):
    """Raises this process's descriptor limit towards `want`; returns the soft limit reached."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(want, hard) if hard != resource.RLIM_INFINITY else want
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]

