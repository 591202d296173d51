"""Mailboxes that only the counterpart can fill (issue 17), with real processes: a relay and two
nodes linked through it alone, and a stranger's client (tests/support/hostile_ws.py) that PUTs
junk with capabilities it read from the inviter's store, as anyone who saw an invitation or
once held a contact's capability could.

- A used invitation's capability is refused by the relay (bad_capability) while the real link
  keeps delivering; the delivery times, quiet and under the flood, are printed.
- A removed contact's capability is revoked at the relay.
- Envelopes stored through a capability that belongs to no live contact (its contact removed
  while the node was stopped) are dropped unopened when the node comes back, and counted.
"""
import asyncio
import os
import sqlite3
import statistics
import struct
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))

import hostile_ws as ws  # noqa: E402
from bc_nodes import Relay, TempRoot, WildcardNode, add_relay, wait_for  # noqa: E402

ENVELOPE_SIZE = 2048
PUT, OK, ERROR = 2, 102, 104
BAD_CAPABILITY = 5


def put_message(request, mailbox, capability):
    return struct.pack(">BI", PUT, request) + mailbox + capability + os.urandom(ENVELOPE_SIZE)


async def put_junk(port, ctx, mailbox, capability, count):
    """PUTs count junk envelopes one after another on one connection; the relay's answers as a
    list of "ok" or the ERROR code."""
    reader, writer = await ws.open_ws("127.0.0.1", port, ctx)
    answers = []
    try:
        for i in range(count):
            writer.write(ws.frame(ws.OP_BINARY, put_message(i + 1, mailbox, capability)))
            await writer.drain()
            while True:
                opcode, payload = await asyncio.wait_for(ws.read_frame(reader), 10)
                if opcode == ws.OP_BINARY:
                    break
            if payload[0] == OK:
                answers.append("ok")
            elif payload[0] == ERROR:
                answers.append(struct.unpack(">H", payload[5:7])[0])
            else:
                answers.append(f"type {payload[0]}")
    finally:
        writer.close()
    return answers


def flood(port, ctx, mailbox, capability, connections, each):
    async def all_of_them():
        return await asyncio.gather(*(put_junk(port, ctx, mailbox, capability, each) for _ in range(connections)))

    return [a for answers in asyncio.run(all_of_them()) for a in answers]


def capabilities(node):
    """The inviter's write capability rows and its mailbox (read from its store, as a test may)."""
    with sqlite3.connect(os.path.join(node.home, "store.db")) as db:
        rows = db.execute("SELECT kind, capability, invitation_id, contact_id, revoked_at "
                          "FROM relay_capabilities ORDER BY id").fetchall()
        mailbox = db.execute("SELECT mailbox FROM relays").fetchone()[0]
    return rows, mailbox


class MailboxWriters(unittest.TestCase):
    def setUp(self):
        self.root = TempRoot()
        self.keys = tempfile.mkdtemp(dir=self.root.path)
        self.ctx = ws.tls_context(*ws.make_client_key(self.keys))
        self.nodes = []
        self.relay = Relay(self.root.path, "relay1")
        self.relay.start()

    def tearDown(self):
        for n in self.nodes:
            n.stop()
        self.relay.stop()
        self.root.cleanup(keep=os.environ.get("BC_INT_KEEP") == "1")

    def make_pair(self):
        """washington invites moscow; the relay is the only channel between them. Returns the
        invitation's capability (read before it is used) with the pair."""
        a = WildcardNode(self.root.path, "washington")
        b = WildcardNode(self.root.path, "moscow")
        self.nodes += [a, b]
        for n in (a, b):
            n.cli("init", "--name", n.name)
            add_relay(n, self.relay)
        a.start()
        invitation = a.cli("invite").stdout.strip()
        rows, mailbox = capabilities(a)
        hello = [bytes(r[1]) for r in rows if r[0] == "hello"]
        self.assertEqual(len(hello), 1, "the invitation has a HELLO-only capability of its own")
        b.cli("contact", "add", invitation)
        b.start()
        wait_for(lambda: a.channels("moscow") == {"relay:relay1": "up"} and
                 b.channels("washington") == {"relay:relay1": "up"}, 60, "the relay channel up on both sides")
        return a, b, mailbox, hello[0]

    def contact_capability(self, node, contact_id=None):
        rows, _ = capabilities(node)
        full = [bytes(r[1]) for r in rows if r[0] == "full" and r[4] is None and
                (contact_id is None or r[3] == contact_id)]
        return full[-1] if full else None

    def deliveries(self, sender, receiver, count, label):
        """Submits count messages one by one on the sender's control socket, each waited for
        (the receiver's count of delivered messages, polled every 20 ms): the times in s."""
        def delivered():
            return (receiver.link(sender.name) or {}).get("messages_in", 0)

        times = []
        for i in range(count):
            before = delivered()
            start = time.monotonic()
            reply = sender.control({"op": "submit", "contact": receiver.name, "text": f"{label}-{i}"})
            self.assertTrue(reply and reply.get("ok"), reply)
            while delivered() <= before:
                self.assertLess(time.monotonic() - start, 60, f"{label}-{i} delivered")
                time.sleep(0.02)
            times.append(time.monotonic() - start)
        return times

    def test_a_used_invitation_floods_nothing_and_the_link_keeps_delivering(self):
        a, b, mailbox, hello = self.make_pair()
        # Used: the inviter revokes its capability at the relay.
        wait_for(lambda: all(r[4] is not None for r in capabilities(a)[0] if r[0] == "hello"), 30,
                 "the used invitation's capability revoked")
        quiet = self.deliveries(b, a, 10, "quiet")
        answers = []
        flooder = threading.Thread(target=lambda: answers.extend(
            flood(self.relay.port, self.ctx, mailbox, hello, connections=4, each=150)))
        flooder.start()
        loaded = self.deliveries(b, a, 10, "flood")
        flooder.join(120)
        self.assertFalse(flooder.is_alive())
        print(f"\ndelivery s quiet: {[round(t, 3) for t in quiet]} (median {statistics.median(quiet):.3f}); "
              f"under the flood: {[round(t, 3) for t in loaded]} (median {statistics.median(loaded):.3f}); "
              f"{len(answers)} junk PUTs")
        self.assertEqual(len(answers), 600)
        self.assertEqual(set(answers), {BAD_CAPABILITY}, "every junk PUT refused as bad_capability")

    def test_a_removed_contacts_capability_is_revoked(self):
        a, b, mailbox, _ = self.make_pair()
        wait_for(lambda: self.contact_capability(a) is not None, 30, "moscow's own capability")
        own = self.contact_capability(a)
        # moscow writes through it (the relay takes it) ...
        self.assertEqual(flood(self.relay.port, self.ctx, mailbox, own, 1, 1), ["ok"])
        a.cli("contact", "remove", "moscow")
        # ... and after `contact remove` beside the running node, nobody does.
        wait_for(lambda: flood(self.relay.port, self.ctx, mailbox, own, 1, 1) == [BAD_CAPABILITY], 30,
                 "the removed contact's capability revoked at the relay")
        self.assertTrue(a.ping(), "the node runs on")

    def test_envelopes_of_no_live_contact_are_dropped_unopened(self):
        a, b, mailbox, _ = self.make_pair()
        wait_for(lambda: self.contact_capability(a) is not None, 30, "moscow's own capability")
        own = self.contact_capability(a)
        a.stop()
        a.cli("contact", "remove", "moscow")
        # The relay still takes the capability (nobody told it otherwise yet).
        self.assertEqual(set(flood(self.relay.port, self.ctx, mailbox, own, 1, 40)), {"ok"})
        a.start()

        def dropped():
            reply = a.control({"op": "status"}) or {}
            return sum(r.get("dropped_unknown_writer", 0) for r in reply.get("relays", []))

        # Its 40 and whatever moscow put meanwhile (heartbeats) through the same capability.
        wait_for(lambda: dropped() >= 40, 30, "40 envelopes dropped for their writer")
        with open(a.log_path) as log:
            lines = [line for line in log if "dropped" in line and "unopened" in line]
        self.assertTrue(lines, "the drops are logged")
        self.assertLessEqual(len(lines), 2, "logged once per interval, not once per envelope")
        wait_for(lambda: flood(self.relay.port, self.ctx, mailbox, own, 1, 1) == [BAD_CAPABILITY], 30,
                 "and the capability revoked at the relay")


if __name__ == "__main__":
    unittest.main()
