#!/usr/bin/env python3
"""Holds N idle client connections through a path to redis and reports the path's memory.

usage: hold.py PORT N PROCESS_REGEX
Opens N connections to 127.0.0.1:PORT, proves each reaches redis (PING -> +PONG), then reports the
summed VmRSS of every process whose command line matches PROCESS_REGEX, before and while holding.
"""
import os, re, socket, sys, json

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
before = rss_kib(pattern)
conns = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    conns.append(s)
for s in conns:
    s.sendall(b"PING\r\n")
ok = 0
for s in conns:
    s.settimeout(30)
    if s.recv(16).startswith(b"+PONG"):
        ok += 1
holding = rss_kib(pattern)
print(json.dumps({"connections": ok, "rss_before_kib": before, "rss_holding_kib": holding,
                  "kib_per_flow": round((holding - before) / max(ok, 1), 1)}))
for s in conns:
    s.close()
