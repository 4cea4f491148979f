#!/usr/bin/env bash
# Starts a demo mesh on this machine, on loopback: two core gateways (both may host the director)
# and one edge gateway, from samples/quickstart/mesh.toml. Ctrl+C stops everything.
set -euo pipefail
cd "$(dirname "$0")"
root=$PWD
demo="$root/.demo"
config="$root/samples/quickstart/mesh.toml"
join="127.0.0.1:4053,127.0.0.1:4054"

echo "building Mesh.Node..."
dotnet build src/Mesh.Node -c Release -o "$demo/bin" --nologo -v quiet
node() { dotnet "$demo/bin/Mesh.Node.dll" "$@"; }

mkdir -p "$demo/logs"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; echo "demo stopped"; }
trap cleanup EXIT INT TERM

node --config "$config" --check

start() {   # start NAME ARGS...: one gateway in the background, its output in .demo/logs/NAME.log
  local name=$1; shift
  (cd "$demo" && exec dotnet "$demo/bin/Mesh.Node.dll" --name "$name" "$@") >"$demo/logs/$name.log" 2>&1 &
  pids+=($!)
}
start core1 --listen 127.0.0.1:7441 --cluster-port 4053 --join "$join" --config "$config"
start core2 --listen 127.0.0.1:7442 --cluster-port 4054 --join "$join" --config "$config"
start edge1 --join "$join"

echo "waiting for every gateway to receive its route table..."
for name in core1 core2 edge1; do
  for _ in $(seq 1 120); do
    grep -q "gateway $name: route table" "$demo/logs/$name.log" 2>/dev/null && break
    sleep 0.5
  done
  grep -h "gateway $name: route table" "$demo/logs/$name.log" | tail -1 | sed 's/^.*\] //' || { echo "$name did not get its table; see $demo/logs/$name.log"; exit 1; }
done
grep -h "director: route map" "$demo"/logs/*.log | tail -1 | sed 's/^.*\] /director: /;s/director: director:/director:/'

cat <<MSG

The mesh is up: core1 and core2 form the cluster, the director runs on one of them, and edge1
(behind a pretend NAT) reaches them only by dialing out. Logs: $demo/logs/
Try: stop the node hosting the director (its log says "director: route map") and watch the other take over.
Ctrl+C stops the demo.
MSG
tail -qf "$demo"/logs/*.log | grep --line-buffered -E "route table|director:|WARNING|ERROR" | sed -u 's/^\[[A-Z]*\]\[[^]]*\]\[[^]]*\]\[[^]]*\] //'
