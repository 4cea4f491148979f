#!/usr/bin/env python3
"""Holds N idle client connections through a path to redis and reports the path's memory.

usage: hold.py PORT N PROCESS_REGEX
Opens N connections to 127.0.0.1:PORT, proves each reaches redis (PING -> +PONG), then reports the
summed VmRSS of every process whose command line matches PROCESS_REGEX, before and while holding.
"connections" counts those that answered; a connection the path refused, reset or left silent counts as
failed (by error, in "failed" and on stderr) instead of ending the run.
"""
import os, re, socket, sys, json
from collections import Counter

def rss_kib(pattern):
    total = 0
    rx = re.compile(pattern)
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
            if pid == str(os.getpid()) or not rx.search(cmd):
                continue
            for line in open(f"/proc/{pid}/status"):
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total

port, n, pattern = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
failed = Counter()
def fail(step, e):
    failed[f"{step}: {type(e).__name__}: {e.strerror or e}" if isinstance(e, OSError) else f"{step}: {e}"] += 1

before = rss_kib(pattern)
conns = []
for _ in range(n):
    try:
        conns.append(socket.create_connection(("127.0.0.1", port)))
    except OSError as e:
        fail("connect", e)
live = []
for s in conns:
    try:
        s.sendall(b"PING\r\n")
        live.append(s)
    except OSError as e:
        fail("send", e)
ok = 0
for s in live:
    s.settimeout(30)
    try:
        reply = s.recv(16)
        if reply.startswith(b"+PONG"):
            ok += 1
        else:
            fail("reply", reply[:16] or "closed (EOF)")
    except OSError as e:
        fail("recv", e)
holding = rss_kib(pattern)
for what, count in failed.items():
    print(f"hold.py: {count} of {n} connections failed: {what}", file=sys.stderr)
print(json.dumps({"connections": ok, "rss_before_kib": before, "rss_holding_kib": holding,
                  "kib_per_flow": round((holding - before) / max(ok, 1), 1), "failed": dict(failed)}))
for s in conns:
    s.close()
