#!/usr/bin/env python3
"""Helpers of bench/refusal.sh.

  refusal.py wait-port PORT [TIMEOUT_S]      connect every 10 ms; print the epoch ms of the first success
  refusal.py probe PORT redis|mysql|http TIMEOUT_S
                                             every 50 ms: connect, ask (PING / nothing / HEAD), read; print the
                                             epoch ms of the first answer: the mesh carries flows to the service
  refusal.py watch NAME:PORT:ENTRY,… TIMEOUT_S    both of the above for each service, in one process
  refusal.py ok-since DIR MS TIMEOUT_S       exit 0 once every client in DIR has succeeded since MS
  refusal.py collect WORK REPS               one TSV row per kind, repetition and client (bench/results/)
  refusal.py report FILE.tsv…                the Markdown tables of docs/PERFORMANCE.md (of several runs together)
"""
import collections, os, re, socket, statistics, sys, threading, time
from datetime import datetime, timezone

KINDS = ["close", "refuse", "reset"]
CLIENTS = {   # client file -> (service, what a success prints)
    "redis-cli": ("redis", "PONG"), "mariadb": ("mysql", "1"), "curl": ("http", "200"),
    "curl-retry": ("http", "200"), "StackExchange.Redis": ("redis", "ok"), "MySqlConnector": ("mysql", "ok"),
}
ENTRY = {"redis": "127.0.0.1:62379", "mysql": "127.0.0.1:62306", "http": "127.0.0.1:62080"}
SETTLE_MS = 4000   # after the services stop, the mesh knows them down within ~2 s: count attempts from here


def now_ms():
    return int(time.time() * 1000)


def wait_port(port, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return now_ms()
        except OSError:
            time.sleep(0.01)
    return "never"


def probe(port, kind, timeout):
    ask = {"redis": b"PING\r\n", "mysql": b"", "http": b"HEAD / HTTP/1.0\r\n\r\n"}[kind]
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(ask)
                if s.recv(64):
                    return now_ms()
        except OSError:
            pass
        time.sleep(0.05)
    return "never"


def watch(spec, timeout):
    """spec NAME:PORT:ENTRY,…: for each service, when it answers on its own port (up-NAME, polled every 10 ms
    from before it starts) and then when its entry carries a flow to it (mesh-NAME)."""
    def one(name, port, entry):
        print(f"up-{name} {wait_port(int(port), timeout)}", flush=True)
        print(f"mesh-{name} {probe(int(entry), name, timeout)}", flush=True)
    threads = [threading.Thread(target=one, args=s.split(":")) for s in spec.split(",")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def attempts(path):
    """(start_ms, end_ms, code, output) of each request a client made."""
    rows = []
    for line in open(path, errors="replace"):
        f = line.rstrip("\n").split("\t", 3)
        if len(f) == 4 and f[0].isdigit():
            rows.append((int(f[0]), int(f[1]), int(f[2]), f[3].strip()))
    return rows


def ok(client, row):
    return row[2] == 0 and row[3].split()[-1:] == [CLIENTS[client][1]]   # curl --retry prints its retries first


def ok_since(d, since, timeout):
    end = time.time() + timeout
    while time.time() < end:
        done = 0
        for client in CLIENTS:
            path = os.path.join(d, client + ".tsv")
            if os.path.exists(path) and any(ok(client, r) and r[1] >= since for r in attempts(path)):
                done += 1
        if done == len(CLIENTS):
            return 0
        time.sleep(0.2)
    return 1


def log_ms(line):
    m = re.search(r"\[(\d\d/\d\d/\d{4} \d\d:\d\d:\d\d\.\d{3})Z\]", line)
    return int(datetime.strptime(m.group(1), "%m/%d/%Y %H:%M:%S.%f").replace(tzinfo=timezone.utc).timestamp() * 1000) if m else None


def shorten(text):
    text = re.sub(r"\d+(\.\d+)?\s*ms\b|\d+s ago", "…", text)   # times vary per request
    return text[:110] + ("…" if len(text) > 110 else "")


def collect(work, reps):
    print("kind\trep\tclient\trecovery_ms\tmesh_ms\tlistening_ms\tdown_attempts\tdown_window_ms\tdown_attempt_ms"
          "\tdown_code\tdown_output\tfirst_seconds")
    for kind in KINDS:
        path = os.path.join(work, kind, "core1.log")
        log = open(path, errors="replace").read().splitlines() if os.path.exists(path) else []
        for rep in range(1, reps + 1):
            d = os.path.join(work, kind, str(rep))
            if not os.path.exists(os.path.join(d, "times")):
                continue
            t = {k: int(v) for k, v in (line.split() for line in open(os.path.join(d, "times")) if len(line.split()) == 2)}
            for client in CLIENTS:
                path = os.path.join(d, client + ".tsv")
                fields = one(client, t, attempts(path) if os.path.exists(path) else [], log)
                print("\t".join(map(str, (kind, rep, client, *fields))))


def one(client, t, rows, log):
    """One client in one repetition: times from T (its service answers on its own port), what it showed."""
    service = CLIENTS[client][0]
    up = t.get("up-" + service)
    since_up = lambda ms: ms - up if ms and up else ""
    first = next((r[1] for r in rows if ok(client, r) and r[1] >= t["restart"]), None)
    mesh = t.get("mesh-" + service)
    again = f"entry {ENTRY[service]} for {service}: listening again"
    listening = next((ms for ms in (log_ms(line) for line in log if again in line) if ms and ms >= t["restart"]), None)
    lo, hi = t["down"] + SETTLE_MS, t["restart"]
    down = [r for r in rows if lo <= r[0] < hi]
    # what it shows: the requests that failed meanwhile; else the one that waited through the outage
    # (curl's retries, a pool's backlog), which ends after the restart
    ended = [r for r in down if r[1] <= hi]
    shown = ended or down or [r for r in rows if r[0] < lo and r[1] > hi][:1]
    common = collections.Counter((r[2], shorten(r[3])) for r in shown).most_common(1)
    code, output = common[0][0] if common else ("", "(no request ended)")
    output = output if ended else "ends after the restart: " + output
    per = int(statistics.median(r[1] - r[0] for r in shown)) if shown else ""
    early = next((f"{r[2]}: {shorten(r[3])}" for r in rows if r[0] >= t["down"] and not ok(client, r)), "")
    return since_up(first), since_up(mesh), since_up(listening), len(down), hi - lo, per, code, output, early


def report(paths):
    rows = []
    for path in paths:   # several runs' rows add up
        lines = open(path).read().splitlines()
        head = lines[0].split("\t")
        rows += [dict(zip(head, l.split("\t"))) for l in lines[1:]]
    by = collections.defaultdict(list)
    for r in rows:
        by[(r["kind"], r["client"])].append(r)

    def med(values):
        v = [int(x) for x in values if x != ""]
        return statistics.median(v) if v else None

    def sec(v):
        return "—" if v is None else f"{v / 1000:.2f} s"

    print(f"While the service is down (after the mesh knows it: from {SETTLE_MS // 1000} s after it stopped until it starts again):\n")
    print("| client | kind | exit code: what it prints | time per request | requests/s |")
    print("|---|---|---|---|---|")
    for client in CLIENTS:
        for kind in KINDS:
            rs = by.get((kind, client), [])
            if not rs:
                continue
            outs = collections.Counter((r["down_code"], r["down_output"]) for r in rs).most_common(1)[0][0]
            rate = sum(int(r["down_attempts"]) for r in rs) / max(1, sum(int(r["down_window_ms"]) for r in rs)) * 1000
            per = med(r["down_attempt_ms"] for r in rs)
            print(f"| {client} | {kind} | {outs[0]}: `{outs[1]}` | {'—' if per is None else f'{per:.0f} ms'} | {rate:.1f} |")
    print("\nThe first failed request after the service stops (the mesh does not know yet; most frequent over the repetitions):\n")
    print("| client | " + " | ".join(KINDS) + " |")
    print("|---|" + "---|" * len(KINDS))
    for client in CLIENTS:
        cells = [collections.Counter(r["first_seconds"] for r in by.get((k, client), [])).most_common(1) for k in KINDS]
        print(f"| {client} | " + " | ".join(f"`{c[0][0][:60]}`" if c and c[0][0] else "—" for c in cells) + " |")
    n = max(len(v) for v in by.values()) if by else 0
    print(f"\nRecovery: from the service answering on its own port (T) to the client's first success; median of {n} "
          "(min–max), and in brackets the client's own share: less the mesh's (first answer of a probe on the entry every 50 ms):\n")
    print("| client | " + " | ".join(KINDS) + " |")
    print("|---|" + "---|" * len(KINDS))
    for client in CLIENTS:
        cells = []
        for kind in KINDS:
            rs = by.get((kind, client), [])
            rec = [int(r["recovery_ms"]) for r in rs if r["recovery_ms"] != ""]
            own = [int(r["recovery_ms"]) - int(r["mesh_ms"]) for r in rs if r["recovery_ms"] != "" and r["mesh_ms"] != ""]
            missing = len(rs) - len(rec)
            cell = "—" if not rec else f"{sec(statistics.median(rec))} ({min(rec) / 1000:.2f}–{max(rec) / 1000:.2f}) [{statistics.median(own) / 1000:+.2f} s]"
            cells.append(cell + (f", {missing} never" if missing else ""))
        print(f"| {client} | " + " | ".join(cells) + " |")
    for label, key in (("mesh: a probe on the entry answers", "mesh_ms"), ("refuse: the entry's 'listening again' line", "listening_ms")):
        cells = []
        for kind in KINDS:
            vals = [int(r[key]) for c in ("redis-cli", "mariadb", "curl") for r in by.get((kind, c), []) if r[key] != ""]   # one per service
            cells.append(f"{sec(statistics.median(vals))} ({min(vals) / 1000:.2f}–{max(vals) / 1000:.2f})" if vals else "—")
        print(f"| *{label}* | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "wait-port":
        print(wait_port(int(args[0]), float(args[1]) if len(args) > 1 else 60))
    elif cmd == "probe":
        r = probe(int(args[0]), args[1], float(args[2]))
        print(r)
        sys.exit(r == "never")
    elif cmd == "watch":
        watch(args[0], float(args[1]))
    elif cmd == "ok-since":
        sys.exit(ok_since(args[0], int(args[1]), float(args[2])))
    elif cmd == "collect":
        collect(args[0], int(args[1]))
    elif cmd == "report":
        report(args)
    else:
        sys.exit(__doc__)
