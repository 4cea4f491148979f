#!/usr/bin/env bash
# Link mode pool beside link mode mux over a slow, lossy link: two network namespaces joined by a veth pair
# whose A->B side drops 1% of packets at random (nftables numgen) and is held to 400 Mbit/s (tc tbf). The
# kernel of this machine has no netem (tc: "Specified qdisc kind is unknown"), so no delay is added: the round
# trip is the veth's (~0.1 ms). With netem, set DELAY=20ms to add it (tc netem delay $DELAY loss 1% instead).
# core1 (the entry) is in A, core2 (the owner of iperf3 and redis) in B. For each mode, and for the bare link:
#   - 10 concurrent bulk flows (iperf3 -P 10): the sum, and the slowest and fastest flow (fairness among them);
#   - request/response beside bulk: redis GET latency (c=10) alone, then while one bulk flow runs.
# usage: bench/lossy.sh            (root: ip netns, tc; ~4 minutes; results to stdout and bench/results/)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d /tmp/mesh-lossy.XXXX)
results="$root/bench/results"
mkdir -p "$results"
A=mlossa B=mlossb
need() { command -v "$1" >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }; }
need iperf3 iperf3; need redis-server redis-server; need redis-benchmark redis-tools; need tc iproute2; need nft nftables

pids=()
cleanup() {
  kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true
  ip netns del $A 2>/dev/null || true; ip netns del $B 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
wait_port() { for _ in $(seq 1 300); do ns "$1" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null && return 0; sleep 0.1; done; echo "port $2:$3 in $1 never opened"; exit 1; }

ip netns add $A; ip netns add $B
ip link add mlva netns $A type veth peer name mlvb netns $B
ns $A ip addr add 10.99.0.1/24 dev mlva; ns $B ip addr add 10.99.0.2/24 dev mlvb
for n in $A $B; do ns $n ip link set lo up; done
ns $A ip link set mlva up; ns $B ip link set mlvb up
if [ -n "${DELAY:-}" ]; then
  ns $A tc qdisc add dev mlva root netem delay "$DELAY" loss 1% rate 400mbit
  shape="netem on A->B: delay $DELAY, loss 1%, 400 Mbit/s"
else
  ns $A nft add table inet lossy
  ns $A nft add chain inet lossy out '{ type filter hook output priority 0; }'
  ns $A nft add rule inet lossy out oifname mlva numgen random mod 100 '<' 1 drop
  ns $A tc qdisc add dev mlva root tbf rate 400mbit burst 256kb latency 20ms
  shape="A->B: 1% of packets dropped at random (nftables), 400 Mbit/s (tbf), no added delay (no netem in this kernel)"
fi

ns $B iperf3 -s -p 5201 >/dev/null 2>&1 & pids+=($!)
ns $B redis-server --port 6379 --bind 0.0.0.0 --protected-mode no --save "" --appendonly no >/dev/null 2>&1 & pids+=($!)
wait_port $B 127.0.0.1 5201; wait_port $B 127.0.0.1 6379

dotnet build src/Mesh.Node -c Release -o "$work/bin" --nologo -v quiet >/dev/null
dotnet build src/Mesh.Cli -c Release -o "$work/bin" --nologo -v quiet >/dev/null
dotnet "$work/bin/mesh.dll" ca init --out "$work/pki" --mesh lossy >/dev/null
for n in core1 core2; do dotnet "$work/bin/mesh.dll" cert issue $n --role core --ca "$work/pki" --out "$work/pki" >/dev/null; done

# iperf3 -J -> "sum min max" in Mbit/s (received)
iperf_json() { python3 -c "
import json,sys
r=json.load(sys.stdin)
if 'error' in r: print('nan nan nan'); sys.exit()
streams=[s['receiver']['bits_per_second']/1e6 for s in r['end']['streams']]
print(round(r['end']['sum_received']['bits_per_second']/1e6,1), round(min(streams),1), round(max(streams),1))"; }
get_latency() { redis-benchmark -h "$1" -p "$2" -c 10 -n 3000 -t get --csv 2>/dev/null | python3 -c "
import csv,sys
rows=[r for r in csv.DictReader(sys.stdin) if r['test']=='GET']
print(rows[0]['p50_latency_ms'], rows[0]['p99_latency_ms']) if rows else print('nan nan')"; }

# measure NAME IPERF_HOST IPERF_PORT REDIS_HOST REDIS_PORT: one line of results, from namespace A
measure() {
  local name=$1 ih=$2 ip=$3 rh=$4 rp=$5
  read -r sum lo hi <<<"$(ns $A iperf3 -c "$ih" -p "$ip" -P 10 -t 15 -J | iperf_json)"
  read -r p50 p99 <<<"$(ns $A bash -c "$(declare -f get_latency); get_latency $rh $rp")"
  ns $A iperf3 -c "$ih" -p "$ip" -t 25 >/dev/null 2>&1 & local bulk=$!
  sleep 5   # the bulk flow is under way (its window has opened) before the requests start
  read -r bp50 bp99 <<<"$(ns $A bash -c "$(declare -f get_latency); get_latency $rh $rp")"
  wait $bulk || true
  printf "| %s | %s | %s | %s | %s / %s | %s / %s |\n" "$name" "$sum" "$lo" "$hi" "$p50" "$p99" "$bp50" "$bp99"
}

start_mesh() {
  local mode=$1 dir="$work/$1"
  mkdir -p "$dir"
  cat >"$dir/mesh.toml" <<CONF
[mesh]
name = "lossy"
link_mode = "$mode"
[gateways.core1]
links = ["10.99.0.1:7441"]
[gateways.core2]
links = ["10.99.0.2:7442"]
[services.iperf]
gateway = "core2"
target = "127.0.0.1:5201"
check = { kind = "none" }
[services.redis]
gateway = "core2"
target = "127.0.0.1:6379"
[[entries]]
gateway = "core1"
listen = "127.0.0.1:15201"
service = "iperf"
[[entries]]
gateway = "core1"
listen = "127.0.0.1:16379"
service = "redis"
CONF
  ns $A bash -c "cd '$dir' && exec dotnet '$work/bin/Mesh.Node.dll' --name core1 --listen 10.99.0.1:7441 --cluster-port 4061 \
    --join 10.99.0.1:4061,10.99.0.2:4062 --cert '$work/pki/core1.crt' --key '$work/pki/core1.key' --ca '$work/pki/ca.crt' \
    --config '$dir/mesh.toml' --state-dir '$dir/state'" >"$dir/core1.log" 2>&1 & pids+=($!)
  ns $B bash -c "cd '$dir' && exec dotnet '$work/bin/Mesh.Node.dll' --name core2 --listen 10.99.0.2:7442 --cluster-port 4062 \
    --join 10.99.0.1:4061,10.99.0.2:4062 --cert '$work/pki/core2.crt' --key '$work/pki/core2.key' --ca '$work/pki/ca.crt'" \
    >"$dir/core2.log" 2>&1 & pids+=($!)
  for _ in $(seq 1 300); do grep -q "link to core2 up" "$dir/core1.log" 2>/dev/null && grep -q "entry 127.0.0.1:16379" "$dir/core1.log" && break; sleep 0.2; done
  wait_port $A 127.0.0.1 15201; wait_port $A 127.0.0.1 16379
  sleep 3   # the multiplexed sessions are dialed beside the pool
}
stop_mesh() { pkill -f "Mesh.Node.dll --name core[12] --listen 10.99.0." || true; sleep 2; }

out="$results/lossy-$(date -u +%Y%m%dT%H%M%SZ).md"
{
  echo "$shape; iperf3 -P 10 -t 15 (Mbit/s); redis GET c=10 p50 / p99 ms, alone and beside one bulk flow"
  echo
  echo "| path | 10 bulk flows, sum | slowest flow | fastest flow | GET alone p50 / p99 | GET beside bulk p50 / p99 |"
  echo "|---|---|---|---|---|---|"
  measure "bare link" 10.99.0.2 5201 10.99.0.2 6379
  for mode in pool mux; do
    start_mesh $mode
    measure "Mesh $mode" 127.0.0.1 15201 127.0.0.1 16379
    stop_mesh
  done
} | tee "$out"
