#!/usr/bin/env bash
# bench/idle-memory.sh [BINDIR]: the resident memory of idle gateways. Starts, on loopback, core1 (with
# --api and --config: it may host the director), core2 (with --metrics) and edge1 (joins through the two
# cores' link ports, no --listen), all with pool_size = 16, and leaves them idle. RSS (VmRSS) of each is
# sampled every 5 s from the moment every link is up; it is settled once no process has grown by 2 MiB or
# more over the last SETTLE seconds (default 60; an idle gateway still creeps by ~1 MiB a minute as its
# young generation fills between collections). Then it prints each process's VmRSS and
# thread count, a breakdown of core2's mappings (/proc/PID/smaps) and the runtime's own figures
# (System.Runtime meter on core2's /metrics).
# BINDIR holds Mesh.Node.dll and mesh.dll; without it the working tree is built first. DOTNET_*
# variables in the environment reach the three gateways (to try a runtime setting without a build).
set -uo pipefail
cd "$(dirname "$0")/.."
settle=${SETTLE:-60}
b=${PORTS:-24450}   # ports PORTS+1 .. PORTS+32, below the ephemeral range (a churn benchmark's TIME_WAIT sockets took
                    # 57452 once); two runs with different PORTS can run side by side
w=$(mktemp -d /tmp/idle-memory.XXXX)
bin=${1:-}
if [ -z "$bin" ]; then
  bin=$w/bin
  dotnet build src/Mesh.Node -c Release -o "$bin" --nologo -v quiet >/dev/null || exit 1
  dotnet build src/Mesh.Cli -c Release -o "$bin" --nologo -v quiet >/dev/null || exit 1
fi
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$w"; }
trap cleanup EXIT

dotnet "$bin/mesh.dll" ca init --out "$w/pki" --mesh idle >/dev/null
for n in core1 core2; do dotnet "$bin/mesh.dll" cert issue $n --role core --ca "$w/pki" --out "$w/pki" >/dev/null; done
dotnet "$bin/mesh.dll" cert issue edge1 --ca "$w/pki" --out "$w/pki" >/dev/null
cat >"$w/mesh.toml" <<CONF
[mesh]
name = "idle"
pool_size = 16
[gateways.core1]
links = ["127.0.0.1:$((b + 1))"]
[gateways.core2]
links = ["127.0.0.1:$((b + 2))"]
[gateways.edge1]
[services.echo]
gateway = "core2"
target = "127.0.0.1:$((b + 9))"
check = { kind = "none" }
[[entries]]
gateway = "core1"
listen = "127.0.0.1:$((b + 21))"
service = "echo"
[[entries]]
gateway = "edge1"
listen = "127.0.0.1:$((b + 22))"
service = "echo"
CONF
tls=(--ca "$w/pki/ca.crt")
core() {   # core N EXTRA...
  local n=$1; shift
  (cd "$w" && exec dotnet "$bin/Mesh.Node.dll" --name core$n --listen 127.0.0.1:$((b + n)) --cluster-port $((b + 10 + n)) \
     --join 127.0.0.1:$((b + 11)),127.0.0.1:$((b + 12)) --cert "$w/pki/core$n.crt" --key "$w/pki/core$n.key" "${tls[@]}" "$@") \
     >"$w/core$n.log" 2>&1 &
  pids+=($!)
}
core 1 --config "$w/mesh.toml" --state-dir "$w/state1" --api 127.0.0.1:$((b + 31)) --api-public-reads
core 2 --metrics 127.0.0.1:$((b + 32))
(cd "$w" && exec dotnet "$bin/Mesh.Node.dll" --name edge1 --join 127.0.0.1:$((b + 1)),127.0.0.1:$((b + 2)) \
   --cert "$w/pki/edge1.crt" --key "$w/pki/edge1.key" "${tls[@]}") >"$w/edge1.log" 2>&1 &
pids+=($!)
names=(core1 core2 edge1)

up() { grep -q "link to core2 up" "$w/core1.log" && grep -q "link to core1 up" "$w/edge1.log" && grep -q "link to core2 up" "$w/edge1.log" \
       && grep -q "entry 127.0.0.1:$((b + 21)) for echo: listening" "$w/core1.log" && grep -q "entry 127.0.0.1:$((b + 22)) for echo: listening" "$w/edge1.log"; }
for _ in $(seq 1 600); do up 2>/dev/null && break; sleep 0.2; done
up || { echo "the mesh never came up; logs:" >&2; tail -n 5 "$w"/*.log >&2; exit 1; }
started=$(date +%s)
echo "all links up; sampling VmRSS every 5 s until none grew by 2 MiB in ${settle} s" >&2

rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
declare -A hist   # hist[$i,$t]: VmRSS (KiB) of process i at sample t
t=0; window=$((settle / 5))
while :; do
  line="t=$(( $(date +%s) - started ))s"; settled=1
  for i in 0 1 2; do
    r=$(rss "${pids[$i]}") || { echo "${names[$i]} exited" >&2; exit 1; }
    hist[$i,$t]=$r; line+=" ${names[$i]}=$((r / 1024))MiB"
    (( t >= window && r - hist[$i,$((t - window))] < 2048 )) || settled=0
  done
  echo "$line" >&2
  (( settled )) && break
  (( $(date +%s) - started > 900 )) && { echo "not settled after 15 min: reporting anyway" >&2; break; }
  t=$((t + 1)); sleep 5
done

echo "settled $(( $(date +%s) - started )) s after the links were up"
printf "%-6s %10s %10s %8s\n" gateway "VmRSS MiB" "VmHWM MiB" threads
for i in 0 1 2; do
  p=${pids[$i]}
  awk -v n="${names[$i]}" '/^VmRSS/ {r=$2} /^VmHWM/ {h=$2} /^Threads/ {t=$2} END {printf "%-6s %10.1f %10.1f %8d\n", n, r/1024, h/1024, t}' "/proc/$p/status"
done
echo
echo "core2's resident memory by mapping (MiB, from /proc/PID/smaps):"
python3 - "${pids[1]}" <<'PY'
import re, sys, collections
pid = sys.argv[1]
cat = collections.Counter(); rss = 0
vmas = []; cur = None
for line in open(f"/proc/{pid}/smaps"):
    m = re.match(r"^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$", line)
    if m:
        cur = {"size": int(m[2], 16) - int(m[1], 16), "path": m[3], "rss": 0, "anon": 0}; vmas.append(cur); continue
    k, _, v = line.partition(":")
    if k == "Rss": cur["rss"] = int(v.split()[0])
    if k == "Anonymous": cur["anon"] = int(v.split()[0])
for v in vmas:
    p = v["path"]
    if p.endswith(".so") or ".so." in p: c = "native libraries (.so, code and data)"
    elif p.endswith(".dll"): c = "managed assemblies (.dll images)"
    elif p == "[heap]": c = "malloc (brk heap)"
    elif p.startswith("[stack"): c = "main thread stack"
    elif p.startswith("/memfd:doublemapper"): c = "executable memory: JIT code, stubs (memfd, W^X double mapping)"
    elif not p: c = "anonymous: GC heap (committed: below), malloc arenas, thread stacks, runtime"
    else: c = "other files: " + p.split("/")[-1]
    cat[c] += v["rss"]; rss += v["rss"]
for c, kib in cat.most_common():
    if kib >= 512: print(f"  {kib/1024:7.1f}  {c}")
print(f"  {rss/1024:7.1f}  total")
PY
echo
echo "core2's runtime figures (GET http://127.0.0.1:$((b + 32))/metrics, System.Runtime meter):"
curl -s http://127.0.0.1:$((b + 32))/metrics | grep -E '^dotnet_(gc_last_collection_heap_size|gc_last_collection_memory_committed_size|gc_heap_total_allocated|gc_collections|process_memory_working_set|thread_pool_thread_count|jit_compiled_methods|jit_compiled_il_size|assembly_count|timer_count)' \
  | sed 's/^/  /'
