#!/usr/bin/env python3
"""Checks the dependency rule of DESIGN.md §3 on the sources, as a second line behind the
build (which already refuses an include of a module that is not linked): every
`#include "<module>/..."` in src/<m>/ must name <m> itself or a module <m> may depend on, and
every target_link_libraries of a module in src/<m>/CMakeLists.txt likewise. Also checks that
no header outside src/net includes Boost, so Asio stays behind net's small interfaces, that
<sodium.h> and <openssl/...> appear only in src/crypto and src/net, and <sqlite3.h> only in
src/store and the relay's store (src/relay/relay_store.cpp)."""
import os
import re
import sys

ALLOWED = {
    "util": set(),
    "crypto": {"util"},
    "wire": {"util"},
    "session": {"util", "crypto", "wire"},
    "store": {"util", "crypto"},
    "net": {"util", "crypto"},
    "link": {"util", "crypto", "wire", "session"},
    "channel": {"util", "crypto", "wire", "session", "link", "net"},
    "node": {"util", "crypto", "wire", "session", "link", "store", "net", "channel"},
    "relay": {"util", "crypto", "wire", "store", "net", "channel"},
    "client": set(),  # the application interface's C++ client: standalone (include/backchannel)
    "cli": {"util", "crypto", "wire", "session", "link", "store", "net", "channel", "node", "relay", "client"},
}

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src")
errors = []
include_re = re.compile(r'#include\s+"([a-z_]+)/')
link_re = re.compile(r"\bbc_([a-z_]+)\b")
for module in sorted(os.listdir(root)):
    path = os.path.join(root, module)
    if not os.path.isdir(path):
        continue
    if module not in ALLOWED:
        errors.append(f"src/{module}: not a module of DESIGN.md §3")
        continue
    ok = ALLOWED[module] | {module}
    for base, _, files in os.walk(path):
        for f in files:
            full = os.path.join(base, f)
            text = open(full, encoding="utf-8").read()
            if f.endswith((".h", ".cpp")):
                for dep in include_re.findall(text):
                    if dep in ALLOWED and dep not in ok:
                        errors.append(f"{os.path.relpath(full, root)} includes {dep}/, which {module} may not use")
                if module != "net" and f.endswith(".h") and "#include <boost/" in text:
                    errors.append(f"{os.path.relpath(full, root)}: Boost headers belong inside src/net")
                rel = os.path.relpath(full, root)
                if module not in ("crypto", "net") and re.search(r"#include\s+<(sodium\.h|sodium/|openssl/)", text):
                    errors.append(f"{rel}: libsodium and OpenSSL belong inside src/crypto and src/net")
                if module != "store" and rel != os.path.join("relay", "relay_store.cpp") and "#include <sqlite3.h>" in text:
                    errors.append(f"{rel}: SQLite belongs inside src/store (and the relay's store)")
            if f == "CMakeLists.txt":
                for dep in link_re.findall(text):
                    if dep in ALLOWED and dep not in ok:
                        errors.append(f"src/{module}/CMakeLists.txt links bc_{dep}, which {module} may not use")

for e in errors:
    print(e)
print(f"layering: {len(errors)} violation(s)")
sys.exit(1 if errors else 0)
