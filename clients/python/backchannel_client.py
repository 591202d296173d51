"""A client of a backchannel node's application interface (docs/api.md, api version 1).

Standard library only. It speaks JSON lines over the node's control socket
(<home>/control.sock), so it runs on the node's machine as the node's user.

    from backchannel_client import Client
    with Client(home="/var/lib/backchannel") as bc:
        bc.submit("moscow", text="Hold the line.", precedence="flash", token="msg-0001")
        for m in bc.follow("archiver"):        # resumes where "archiver" last acked
            store_somewhere(m)                 # your own durable commit first,
            bc.ack("archiver", m["id"])        # then the ack: exactly once to you
"""
import json
import os
import socket

API_VERSION = 1


class ApiError(Exception):
    """A refusal from the node: code (e.g. "not_found", "bad_format", "limit") and message."""

    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def default_home():
    return os.environ.get("BACKCHANNEL_HOME") or os.path.expanduser("~/.backchannel")


class Client:
    def __init__(self, home=None, socket_path=None, timeout=40.0):
        self.path = socket_path or os.path.join(home or default_home(), "control.sock")
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(self.path)
        except OSError as e:
            self.sock.close()
            raise ApiError("not_running", f"no node answers on {self.path}: {e}") from e
        self._buffer = b""
        self.node = self.call({"op": "hello", "api": API_VERSION})

    # -- plumbing -------------------------------------------------------------------------
    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _send(self, request):
        self.sock.sendall(json.dumps(request, separators=(",", ":")).encode() + b"\n")

    def _receive(self):
        while b"\n" not in self._buffer:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ApiError("closed", "the node closed the connection")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    @staticmethod
    def _check(reply):
        if not reply.get("ok"):
            err = reply.get("error", {})
            raise ApiError(err.get("code", "unknown"), err.get("message", ""))
        return reply

    def call(self, request):
        """One request, its answer (raises ApiError for a refusal)."""
        self._send(request)
        return self._check(self._receive())

    # -- the interface ----------------------------------------------------------------------
    @staticmethod
    def _submission(contact, text=None, file=None, precedence="routine", token=None, surge=False):
        req = {"op": "submit", "contact": contact, "precedence": precedence}
        if surge:
            req["surge"] = True  # under cover traffic: leaves outside the slots (docs/api.md)
        if text is not None:
            req["text"] = text
        if file is not None:
            req["file"] = os.path.abspath(file)
        if token is not None:
            req["token"] = token
        return req

    def submit(self, contact, text=None, file=None, precedence="routine", token=None, surge=False):
        """Queues one message; returns {"seq", "duplicate", ...} once it is durable. surge: under
        cover traffic, send it at once outside the slots, which an observer can see."""
        return self.call(self._submission(contact, text, file, precedence, token, surge))

    def submit_many(self, submissions, window=128):
        """Queues many messages with up to `window` in flight on this connection; each item is a
        dict of submit()'s arguments. Returns the answers in order (an ApiError for a refusal)."""
        answers, pending = [], 0
        it = iter(submissions)
        done = False
        while not done or pending:
            while not done and pending < window:
                try:
                    self._send(self._submission(**next(it)))
                    pending += 1
                except StopIteration:
                    done = True
            if pending:
                reply = self._receive()
                pending -= 1
                try:
                    answers.append(self._check(reply))
                except ApiError as e:
                    answers.append(e)
        return answers

    def deliveries(self, consumer=None, after=None, max=100, wait_ms=0):
        """Received messages after `after`, else after the consumer's acked cursor; waits up to
        wait_ms (at most 25000) when there are none."""
        req = {"op": "deliveries", "max": max, "wait_ms": wait_ms}
        if consumer is not None:
            req["consumer"] = consumer
        if after is not None:
            req["after"] = after
        return self.call(req)

    def ack(self, consumer, message_id):
        """Records that consumer has everything up to message_id (durable in the node's store)."""
        return self.call({"op": "ack", "consumer": consumer, "id": message_id})

    def events(self, after=0, max=100, wait_ms=0):
        """Receipts, deliveries, channel and link state changes, alarms, since `after`."""
        return self.call({"op": "events", "after": after, "max": max, "wait_ms": wait_ms})

    def follow(self, consumer, wait_ms=20000):
        """Yields messages for consumer forever, from its acked cursor; ack each after your own
        commit (a message not acked comes again after a restart)."""
        after = None
        while True:
            batch = self.deliveries(consumer=consumer if after is None else None, after=after, wait_ms=wait_ms)
            for m in batch["messages"]:
                yield m
            after = batch["cursor"]
