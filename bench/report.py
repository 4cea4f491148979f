#!/usr/bin/env python3
"""Turns a raw bench TSV into a Markdown table of medians, with ratios to the direct connection."""
import csv, statistics, sys
from collections import defaultdict

rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
cols = ["iperf1_gbit", "iperf4_gbit", "get_rps_c50", "p50_ms_c1", "p99_ms_c1", "conn_per_s", "rss_holding_kib", "kib_per_flow"]
by_path = defaultdict(lambda: defaultdict(list))
order = []
for r in rows:
    if r["path"] not in order:
        order.append(r["path"])
    for c in cols:
        try:
            by_path[r["path"]][c].append(float(r[c]))
        except ValueError:
            pass
med = {p: {c: statistics.median(v) if v else float("nan") for c, v in by_path[p].items()} for p in order}
d = med.get("direct", {})

def cell(p, c, fmt):
    v = med[p].get(c, float("nan"))
    ratio = v / d[c] if d.get(c) else None
    s = fmt.format(v)
    return f"{s} ({ratio:.2f}x)" if ratio and p != "direct" and c not in ("rss_holding_kib", "kib_per_flow") else s

print(f"rounds: {len({r['round'] for r in rows})}, medians; (ratio to direct)\n")
print("| path | iperf3 1 stream Gbit/s | iperf3 -P 4 Gbit/s | redis GET c=50 req/s | p50 c=1 µs | p99 c=1 µs | new conn/s (-k 0) | RSS 2,000 idle flows MiB | KiB per flow |")
print("|---|---|---|---|---|---|---|---|---|")
for p in order:
    m = med[p]
    print(f"| {p} | {cell(p,'iperf1_gbit','{:.2f}')} | {cell(p,'iperf4_gbit','{:.2f}')} | {cell(p,'get_rps_c50','{:.0f}')} | "
          f"{m['p50_ms_c1']*1000:.0f} | {m['p99_ms_c1']*1000:.0f} | {cell(p,'conn_per_s','{:.0f}')} | "
          f"{m['rss_holding_kib']/1024:.0f} | {m['kib_per_flow']:.1f} |")
