#!/usr/bin/env bash
# Starts a demo mesh on this machine, on loopback, from samples/quickstart/mesh.toml:
#   core1, core2  core gateways (cluster members; both may host the director)
#   edge1         an edge gateway that pretends to sit behind NAT: it only dials out
#   echo          a TCP echo service at edge1's site (mesh echo)
#   redis         redis-server at core2's site, when redis-server is installed
# It makes a private CA and a certificate per gateway, sends a first flow through the mesh,
# prints what to connect to, and follows the logs. Ctrl+C (or SIGTERM, SIGHUP) stops everything.
#
# Usage: ./demo.sh              start the demo, in the foreground
#        ./demo.sh stop NAME    while it runs (from another terminal): stop one of its processes,
#        ./demo.sh start NAME   and start it again; NAME: echo, redis, core1, core2, edge1
#        ./demo.sh ps           what the running demo runs, with each process id
#        ./demo.sh stop         stop the whole demo
# The demo keeps a process id per process in .demo/pids/NAME.pid (demo.pid: the demo itself).
set -euo pipefail
cd "$(dirname "$0")"
root=$PWD
demo="$root/.demo"
pids="$demo/pids"
config="$root/samples/quickstart/mesh.toml"
join="127.0.0.1:4053,127.0.0.1:4054"        # the core gateways' cluster addresses (the same list on each)
links="127.0.0.1:7441,127.0.0.1:7442"       # the core gateways' link addresses: where an edge joins
names=(echo redis core1 core2 edge1)

command_of() {   # command_of NAME: sets cmd to the command line of the demo's process NAME
  local tls=(--cert "$demo/pki/certs/$1.crt" --key "$demo/pki/certs/$1.key" --ca "$demo/pki/ca/ca.crt")
  local node=(dotnet "$demo/bin/Mesh.Node.dll" --name "$1")
  case $1 in
    echo)  cmd=(dotnet "$demo/bin/mesh.dll" echo --listen 127.0.0.1:7500) ;;
    redis) cmd=(redis-server --port 7501 --bind 127.0.0.1 --save "" --appendonly no) ;;
    core1) cmd=("${node[@]}" --listen 127.0.0.1:7441 --cluster-port 4053 --join "$join" --config "$config"
                --state-dir "$demo/state/core1" --api 127.0.0.1:7680 --api-token-file "$demo/api.token" "${tls[@]}") ;;
    core2) cmd=("${node[@]}" --listen 127.0.0.1:7442 --cluster-port 4054 --join "$join" --config "$config"
                --state-dir "$demo/state/core2" --api 127.0.0.1:7681 --api-token-file "$demo/api.token" "${tls[@]}") ;;
    edge1) cmd=("${node[@]}" --join "$links" "${tls[@]}") ;;
    *) echo "demo.sh: the demo has no process '$1' (it has ${names[*]})" >&2; exit 2 ;;
  esac
}

pid_of() {       # pid_of NAME: its process id, if it runs (a pid file of a process gone, or reused, is no proof)
  local pid
  pid=$(cat "$pids/$1.pid" 2>/dev/null) || return 1
  if [ "$1" = demo ]; then   # the demo itself runs in the repository; its processes run in .demo
    [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$root" ] && grep -qa demo.sh "/proc/$pid/cmdline" 2>/dev/null || return 1
  else
    [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$demo" ] || return 1
  fi
  echo "$pid"
}

start() {        # start NAME: in the background, in .demo, its output appended to .demo/logs/NAME.log
  command_of "$1"
  (cd "$demo" && exec "${cmd[@]}") >>"$demo/logs/$1.log" 2>&1 &
  echo $! > "$pids/$1.pid"
}

stop() {         # stop NAME...: SIGTERM, then wait until each is gone (SIGKILL after 30 s)
  local name pid left=()
  for name in "$@"; do
    if pid=$(pid_of "$name"); then kill -TERM "$pid" 2>/dev/null || true; left+=("$pid"); fi
    rm -f "$pids/$name.pid"
  done
  for _ in $(seq 1 60); do
    local still=()
    for pid in "${left[@]}"; do [ -e "/proc/$pid/cwd" ] && still+=("$pid"); done   # a zombie has no cwd
    [ ${#still[@]} -eq 0 ] && return 0
    sleep 0.5
  done
  echo "demo.sh: ${still[*]} still running 30 s after SIGTERM: killed" >&2
  kill -KILL "${still[@]}" 2>/dev/null || true
}

# ./demo.sh stop|start|ps: act on the demo that runs
if [ $# -gt 0 ]; then
  running=$(pid_of demo) || { echo "demo.sh: no demo is running (start one with ./demo.sh)" >&2; exit 1; }
  case "$1 $#" in
    "stop 1") kill -TERM "$running"; while kill -0 "$running" 2>/dev/null; do sleep 0.5; done; echo "demo stopped" ;;
    "stop 2") command_of "$2"
              pid=$(pid_of "$2") || { echo "$2 is not running"; exit 0; }
              stop "$2"; echo "$2 stopped (it was process $pid); ./demo.sh start $2 starts it again" ;;
    "start 2") command_of "$2"
              if pid=$(pid_of "$2"); then echo "$2 is already running (process $pid)"; exit 0; fi
              start "$2"; echo "$2 started (process $(cat "$pids/$2.pid")); its output: .demo/logs/$2.log" ;;
    "ps 1")   echo "demo      process $running"
              for name in "${names[@]}"; do
                if pid=$(pid_of "$name"); then printf '%-9s process %s\n' "$name" "$pid"; else printf '%-9s stopped\n' "$name"; fi
              done ;;
    *) echo "usage: ./demo.sh [stop [NAME] | start NAME | ps]   (NAME: ${names[*]})" >&2; exit 2 ;;
  esac
  exit 0
fi

if running=$(pid_of demo); then
  echo "demo.sh: a demo is already running (process $running): ./demo.sh ps shows it, ./demo.sh stop stops it" >&2
  exit 1
fi
mkdir -p "$demo/logs" "$pids"
leftover=()   # what a demo killed with no chance to clean up (SIGKILL) left running
for name in "${names[@]}"; do pid_of "$name" >/dev/null && leftover+=("$name"); done
if [ ${#leftover[@]} -gt 0 ]; then echo "stopping what an earlier demo left running: ${leftover[*]}"; stop "${leftover[@]}"; fi
echo $$ > "$pids/demo.pid"

stopping=""
cleanup() {      # stops every process this demo started, and whatever `./demo.sh start` added
  [ -n "$stopping" ] && return; stopping=1
  trap '' INT TERM HUP   # a second Ctrl+C does not cut the clean-up short
  local jobs; jobs=$(jobs -p)
  [ -n "$jobs" ] && kill -TERM $jobs 2>/dev/null || true   # a build, the log follower
  stop "${names[@]}"
  rm -f "$pids/demo.pid"
  echo "demo stopped"
}
trap cleanup EXIT
trap 'exit 130' INT    # exit runs cleanup (the EXIT trap), then exits with 128 + the signal's number
trap 'exit 143' TERM
trap 'exit 129' HUP
# A trap runs only once the foreground command ends: what takes long runs in the background, and the
# script waits for it with `wait`, which a signal interrupts at once.
foreground() { "$@" & wait $!; }

echo "building Mesh.Node and mesh..."
foreground dotnet build src/Mesh.Node -c Release -o "$demo/bin" --nologo -v quiet
foreground dotnet build src/Mesh.Cli -c Release -o "$demo/bin" --nologo -v quiet
mesh() { foreground dotnet "$demo/bin/mesh.dll" "$@"; }

foreground dotnet "$demo/bin/Mesh.Node.dll" --config "$config" --check
[ -f "$demo/pki/ca/ca.key" ] || mesh ca init --out "$demo/pki/ca" --mesh quickstart
for name in core1 core2; do   # core gateways: may join the cluster and host the director (a certificate from before roles is re-issued)
  mesh cert show "$demo/pki/certs/$name.crt" 2>/dev/null | grep -q "^role  *core" \
    || mesh cert issue "$name" --role core --ca "$demo/pki/ca" --out "$demo/pki/certs" --force >/dev/null
done
[ -f "$demo/pki/certs/edge1.key" ] || mesh cert issue edge1 --ca "$demo/pki/ca" --out "$demo/pki/certs" >/dev/null   # an edge
[ -f "$demo/api.token" ] || (umask 077; head -c 18 /dev/urandom | base64 > "$demo/api.token")   # admin: reads and writes

rm -f "$demo"/logs/*.log
# Every demo starts a fresh control plane: an earlier demo's stored director state would only add events
# about it ("gateway core2 not heard from for 82s"); the CA, the certificates and the token are kept.
rm -rf "$demo/state"
start echo
redis=no
if command -v redis-server >/dev/null; then start redis; redis=yes; fi
for name in core1 core2 edge1; do start "$name"; done

wait_for() {     # wait_for LOG TEXT: until the log has the line, at most 60 s
  for _ in $(seq 1 120); do grep -q "$2" "$demo/logs/$1.log" 2>/dev/null && return 0; sleep 0.5; done
  echo "timed out waiting for '$2' in $demo/logs/$1.log"; exit 1
}
echo "waiting for the gateways..."
for name in core1 core2 edge1; do wait_for "$name" "gateway $name: route table"; done
wait_for core1 "entry 127.0.0.1:7600 for echo: listening"
wait_for edge1 "link to core1 up"
wait_for edge1 "link to core2 up"
for name in core1 core2 edge1; do   # the table in force (its version grows as link costs settle: v1, v1.1, ...)
  grep -h "gateway $name: route table" "$demo/logs/$name.log" | tail -n 1 | sed 's/^.*\] //'
done

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

The admin shell talks to core1's REST API (http://127.0.0.1:7680; metrics at /metrics), or core2's
(127.0.0.1:7681) while core1 is stopped; it needs the token:
  export MESH_API=127.0.0.1:7680,127.0.0.1:7681 MESH_API_TOKEN=\$(cat $demo/api.token)
  dotnet $demo/bin/mesh.dll status
  dotnet $demo/bin/mesh.dll                                      (a shell: Tab completes)
The live topology page: http://127.0.0.1:7680/ui in a browser (sign in with the token in $demo/api.token).

From another terminal, stop a process and start it again: ./demo.sh stop echo, then ./demo.sh start echo
(also redis, core1, core2, edge1; ./demo.sh ps lists them). Try: stop the echo service and see it reported
down; or stop the node hosting the director (its log says "director: route map") and watch the other take
over. Logs: $demo/logs/. Ctrl+C (or ./demo.sh stop) stops the demo.
MSG
# Follows the gateways' logs until the demo stops (--pid: tail ends with this script, however it ends).
tail --pid=$$ -qf "$demo"/logs/core*.log "$demo"/logs/edge*.log \
  > >(grep --line-buffered -E "route table|director:|link to|entry |cluster: |stopping|stopped|WARNING|ERROR" \
      | sed -u 's/^\([a-z0-9-]*\): \[[A-Z]*\]\[[^]]*\]\[[^]]*\]\[[^]]*\] /\1: /') &
wait $!
