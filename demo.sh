#!/usr/bin/env bash
# Starts a demo mesh on this machine, on loopback, from samples/quickstart/mesh.toml:
#   core1, core2  core gateways (cluster members; both may host the director)
#   edge1         an edge gateway that pretends to sit behind NAT: it only dials out
#   echo          a TCP echo service at edge1's site (mesh echo)
#   redis         redis-server at core2's site, when redis-server is installed
# It makes a private CA and a certificate per gateway, sends a first flow through the mesh,
# prints what to connect to, and follows the logs. Ctrl+C stops everything.
set -euo pipefail
cd "$(dirname "$0")"
root=$PWD
demo="$root/.demo"
config="$root/samples/quickstart/mesh.toml"
join="127.0.0.1:4053,127.0.0.1:4054"        # the core gateways' cluster addresses (the same list on each)
links="127.0.0.1:7441,127.0.0.1:7442"       # the core gateways' link addresses: where an edge joins

echo "building Mesh.Node and mesh..."
dotnet build src/Mesh.Node -c Release -o "$demo/bin" --nologo -v quiet
dotnet build src/Mesh.Cli -c Release -o "$demo/bin" --nologo -v quiet
mesh() { dotnet "$demo/bin/mesh.dll" "$@"; }

mkdir -p "$demo/logs"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; echo "demo stopped"; }
trap cleanup EXIT INT TERM

dotnet "$demo/bin/Mesh.Node.dll" --config "$config" --check
[ -f "$demo/pki/ca/ca.key" ] || mesh ca init --out "$demo/pki/ca" --mesh quickstart
for name in core1 core2; do   # core gateways: may join the cluster and host the director (a certificate from before roles is re-issued)
  mesh cert show "$demo/pki/certs/$name.crt" 2>/dev/null | grep -q "^role  *core" \
    || mesh cert issue "$name" --role core --ca "$demo/pki/ca" --out "$demo/pki/certs" --force >/dev/null
done
[ -f "$demo/pki/certs/edge1.key" ] || mesh cert issue edge1 --ca "$demo/pki/ca" --out "$demo/pki/certs" >/dev/null   # an edge

background() {   # background NAME COMMAND...: output in .demo/logs/NAME.log
  local name=$1; shift
  (cd "$demo" && exec "$@") >"$demo/logs/$name.log" 2>&1 &
  pids+=($!)
}
gateway() {      # gateway NAME ARGS...
  local name=$1; shift
  background "$name" dotnet "$demo/bin/Mesh.Node.dll" --name "$name" "$@" \
    --cert "$demo/pki/certs/$name.crt" --key "$demo/pki/certs/$name.key" --ca "$demo/pki/ca/ca.crt"
}

background echo dotnet "$demo/bin/mesh.dll" echo --listen 127.0.0.1:7500
redis=no
if command -v redis-server >/dev/null; then
  background redis redis-server --port 7501 --bind 127.0.0.1 --save "" --appendonly no
  redis=yes
fi
[ -f "$demo/api.token" ] || (umask 077; head -c 18 /dev/urandom | base64 > "$demo/api.token")   # admin: reads and writes
gateway core1 --listen 127.0.0.1:7441 --cluster-port 4053 --join "$join" --config "$config" --state-dir "$demo/state/core1" \
  --api 127.0.0.1:7680 --api-token-file "$demo/api.token"
gateway core2 --listen 127.0.0.1:7442 --cluster-port 4054 --join "$join" --config "$config" --state-dir "$demo/state/core2"
gateway edge1 --join "$links"

wait_for() {     # wait_for LOG TEXT: until the log has the line, at most 60 s
  for _ in $(seq 1 120); do grep -q "$2" "$demo/logs/$1.log" 2>/dev/null && return 0; sleep 0.5; done
  echo "timed out waiting for '$2' in $demo/logs/$1.log"; exit 1
}
echo "waiting for the gateways..."
for name in core1 core2 edge1; do wait_for "$name" "gateway $name: route table"; done
wait_for core1 "entry 127.0.0.1:7600 for echo: listening"
wait_for edge1 "link to core1 up"
wait_for edge1 "link to core2 up"
grep -h "gateway .*: route table" "$demo"/logs/core*.log "$demo"/logs/edge*.log | sed 's/^.*\] //'

exec 3<>/dev/tcp/127.0.0.1/7600
echo "hello through the mesh" >&3
read -r -t 10 reply <&3 || true
exec 3>&-
echo
echo "first flow: sent 'hello through the mesh' to core1's entry 127.0.0.1:7600, the echo service at edge1's"
echo "site (behind the pretend NAT) sent back: '$reply'"

cat <<MSG

The mesh is up. Connect to:
  127.0.0.1:7600  on core1 -> echo service at edge1's site      try: nc 127.0.0.1 7600
MSG
if [ $redis = yes ]; then cat <<MSG
  127.0.0.1:7601  on core1 -> redis at core2's site              try: redis-cli -p 7601 ping
  127.0.0.1:7602  on edge1 -> redis at core2's site              try: redis-cli -p 7602 set hello mesh
MSG
else echo "  (install redis-server to also publish redis on 127.0.0.1:7601 and :7602)"; fi
cat <<MSG

The admin shell talks to core1's REST API (http://127.0.0.1:7680; metrics at /metrics); it needs the token:
  export MESH_API=127.0.0.1:7680 MESH_API_TOKEN=\$(cat $demo/api.token)
  dotnet $demo/bin/mesh.dll status
  dotnet $demo/bin/mesh.dll                                      (a shell: Tab completes)

Logs: $demo/logs/. Try: stop the node hosting the director (its log says "director: route map")
and watch the other take over; or stop the echo service and see it reported down. Ctrl+C stops the demo.
MSG
tail -qf "$demo"/logs/core*.log "$demo"/logs/edge*.log \
  | grep --line-buffered -E "route table|director:|link to|entry |WARNING|ERROR" \
  | sed -u 's/^\[[A-Z]*\]\[[^]]*\]\[[^]]*\]\[[^]]*\] //'
