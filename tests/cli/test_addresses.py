"""Where a node is reached (issue 10): invite --address keeps the addresses a node advertises,
[node] advertise, node run --advertise, and contact address add|list|remove with their
refusals, with no node and beside a running one."""
import json
import os
import subprocess
import time
import unittest

from bc_cli import BIN, CliTestCase, free_port



def status(party):
    """status --json of a running node; its exit code is the worst link state (2: blackout)."""
    proc = party.run("--json", "status", check=False)
    return json.loads(proc.stdout)


class Addresses(CliTestCase):
    def pair(self, address="wash.example:7400"):
        a = self.party("washington")
        b = self.party("moscow")
        inv = a.json("invite", "--address", address)
        b.run("contact", "add", inv["invitation"])
        return a, b, inv

    def test_invite_address_is_kept_and_offered_again(self):
        a = self.party("washington")
        inv = a.json("invite", "--address", "wash.example:7400", "--address", "[2001:db8::7]:7400")
        self.assertTrue(inv["address_kept"])
        self.assertEqual(inv["addresses"], ["wash.example:7400", "[2001:db8::7]:7400"])
        again = a.json("invite")
        self.assertEqual(again["addresses"], ["wash.example:7400", "[2001:db8::7]:7400"])
        self.assertFalse(again["address_kept"])
        other = a.json("invite", "--address", "other.example:7400", "--no-keep-address")
        self.assertFalse(other["address_kept"])
        self.assertEqual(a.json("invite")["addresses"], ["wash.example:7400", "[2001:db8::7]:7400"])
        human = a.run("invite", "--address", "new.example:7400")
        self.assertIn("Kept: the node advertises new.example:7400", human.stderr)

    def test_config_advertise_wins_over_kept_addresses(self):
        a = self.party("washington")
        with open(os.path.join(a.home, "backchannel.toml"), "w") as f:
            f.write('[node]\nlisten = "0.0.0.0:7400"\nadvertise = ["wash.example:7400"]\n')
        self.assertEqual(a.json("invite")["addresses"], ["wash.example:7400"])
        other = a.run("invite", "--address", "other.example:7400")
        self.assertIn("[node] advertise", other.stderr)
        self.assertEqual(a.json("invite")["addresses"], ["wash.example:7400"])

    def test_a_wildcard_listener_alone_advertises_nothing_and_says_so(self):
        a = self.party("washington")
        with open(os.path.join(a.home, "backchannel.toml"), "w") as f:
            f.write('[node]\nlisten = "0.0.0.0:7400"\n')
        proc = a.run("invite")
        self.assertIn("advertises no address", proc.stderr)
        self.assertIn("--address", proc.stderr)

    def test_bad_addresses_are_refused_with_the_reason(self):
        a = self.party("washington")
        for bad, why in [("0.0.0.0:7400", "wildcard"), ("[::]:7400", "wildcard"), ("wash.example", "no ':PORT'"),
                         ("wash.example:0", "1-65535"), ("2001:db8::7:7400", "brackets"),
                         ("wash example:7400", "letters, digits")]:
            proc = a.run("--json", "invite", "--address", bad, check=False)
            self.assertEqual(proc.returncode, 3, bad)
            self.assertIn(why, json.loads(proc.stdout)["error"]["message"], bad)
        with open(os.path.join(a.home, "backchannel.toml"), "w") as f:
            f.write('[node]\nadvertise = ["0.0.0.0:7400"]\n')
        proc = a.run("invite", check=False)
        self.assertEqual(proc.returncode, 3)
        self.assertIn("backchannel.toml:2", proc.stderr)

    def test_contact_address_add_list_remove(self):
        a, b, _ = self.pair()
        listed = b.json("contact", "address", "list", "washington")
        self.assertEqual(listed["contact"], "washington")
        self.assertFalse(listed["node_running"])
        self.assertEqual([(x["address"], x["source"]) for x in listed["addresses"]],
                         [("wash.example:7400", "invitation")])
        added = b.json("contact", "address", "add", "washington", "[2001:db8::9]:7401")
        self.assertEqual(added, {"contact": "washington", "address": "[2001:db8::9]:7401", "added": True,
                                 "node_told": False})
        listed = b.json("contact", "address", "list", "washington")
        self.assertEqual([(x["address"], x["source"]) for x in listed["addresses"]],
                         [("wash.example:7400", "invitation"), ("[2001:db8::9]:7401", "manual")])
        human = b.run("contact", "address", "list", "washington").stdout
        self.assertIn("[2001:db8::9]:7401", human)
        self.assertIn("manual", human)
        removed = b.json("contact", "address", "remove", "washington", "wash.example:7400")
        self.assertTrue(removed["removed"])
        listed = b.json("contact", "address", "list", "washington")
        self.assertEqual([x["address"] for x in listed["addresses"]], ["[2001:db8::9]:7401"])

    def test_contact_address_refusals_change_nothing(self):
        a, b, _ = self.pair()
        before = b.json("contact", "address", "list", "washington")
        cases = [
            (["add", "washington", "nohost"], 3, "is not HOST:PORT"),
            (["add", "washington", "0.0.0.0:1"], 3, "wildcard"),
            (["add", "nobody", "wash.example:1"], 4, "no contact named 'nobody'"),
            (["remove", "washington", "never.example:1"], 4, "has no address never.example:1"),
            (["list", "nobody"], 4, "no contact named"),
        ]
        for args, code, why in cases:
            proc = b.run("--json", "contact", "address", *args, check=False)
            self.assertEqual(proc.returncode, code, args)
            self.assertIn(why, json.loads(proc.stdout)["error"]["message"], args)
            human = b.run("contact", "address", *args, check=False)
            self.assertEqual(human.returncode, code, args)
            self.assertIn(why, human.stderr, args)
        self.assertEqual(b.json("contact", "address", "list", "washington"), before)

    def test_a_running_node_dials_an_added_address_and_shows_its_failure(self):
        a, b, _ = self.pair(address="127.0.0.1:%d" % free_port())
        dead = "127.0.0.1:%d" % free_port()  # nothing listens there
        log = open(os.path.join(self.root, "moscow.log"), "w")
        node = subprocess.Popen([BIN, "--home", b.home, "node", "run", "--listen", "127.0.0.1:0"],
                                stdout=log, stderr=log)
        try:
            deadline = time.time() + 30
            while time.time() < deadline and "links" not in status(b):
                time.sleep(0.2)
            added = b.json("contact", "address", "add", "washington", dead)
            self.assertTrue(added["node_told"])
            entry = None
            deadline = time.time() + 20
            while time.time() < deadline:
                links = status(b)["links"]
                rows = [x for x in links[0]["direct"]["addresses"] if x["address"] == dead]
                if rows and rows[0]["error"]:
                    entry = rows[0]
                    break
                time.sleep(0.3)
            self.assertIsNotNone(entry, "the failing dial never showed in status")
            self.assertEqual(entry["source"], "manual")
            self.assertTrue(entry["dialling"])
            self.assertIsInstance(entry["last_failed_ms"], int)
            listed = b.json("contact", "address", "list", "washington")
            self.assertTrue(listed["node_running"])
            row = [x for x in listed["addresses"] if x["address"] == dead][0]
            self.assertTrue(row["error"])
            self.assertIn("failed", b.run("status", check=False).stdout)
            b.json("contact", "address", "remove", "washington", dead)
            deadline = time.time() + 10
            while time.time() < deadline:
                addrs = [x["address"] for x in status(b)["links"][0]["direct"]["addresses"]]
                if dead not in addrs:
                    break
                time.sleep(0.2)
            self.assertNotIn(dead, addrs)
        finally:
            node.terminate()
            node.wait(timeout=30)
            log.close()

    def test_contact_remove_beside_a_running_node_stops_only_that_link(self):
        # Two live links on loopback; one contact is removed while both nodes run.
        a = self.party("washington")
        b = self.party("moscow")
        c = self.party("london")
        pa, pc = free_port(), free_port()
        b.run("contact", "add", a.json("invite", "--address", f"127.0.0.1:{pa}")["invitation"])
        b.run("contact", "add", c.json("invite", "--address", f"127.0.0.1:{pc}")["invitation"])
        procs = []
        logs = []
        try:
            for party, port in [(a, pa), (c, pc), (b, free_port())]:
                log = open(os.path.join(self.root, party.name + ".log"), "w")
                logs.append(log)
                procs.append(subprocess.Popen([BIN, "--home", party.home, "node", "run", "--listen",
                                               f"127.0.0.1:{port}"], stdout=log, stderr=log))
            deadline = time.time() + 30
            while time.time() < deadline:
                links = status(b).get("links", [])
                if len(links) == 2 and all(l["direct"]["address"] for l in links):
                    break
                time.sleep(0.3)
            b.run("send", "--to", "washington", "before")
            b.run("contact", "remove", "washington")
            deadline = time.time() + 10
            while time.time() < deadline and len(status(b).get("links", [])) != 1:
                time.sleep(0.2)
            self.assertEqual([l["contact"] for l in status(b)["links"]], ["london"])
            self.assertIsNone(procs[2].poll(), "moscow's node died when a contact was removed beside it")
            b.run("send", "--to", "london", "after")
            deadline = time.time() + 20
            got = []
            while time.time() < deadline:
                got = [m["body"].get("text") for m in c.json("inbox")]
                if "after" in got:
                    break
                time.sleep(0.3)
            self.assertIn("after", got)
            self.assertIsNone(procs[2].poll())
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(timeout=30)
            for log in logs:
                log.close()


if __name__ == "__main__":
    unittest.main()
