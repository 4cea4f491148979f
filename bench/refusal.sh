#!/usr/bin/env bash
# bench/refusal.sh: what clients of an entry see while its service is down, and how fast they recover when it
# is back, for each way an entry can refuse them (issue 17 point 1):
#   close   accept-then-close: Mesh at OLD_REV (default 5fb52d8, the commit before entries stopped listening)
#   refuse  stop listening, so a connect gets ECONNREFUSED: Mesh as in this working tree
#   reset   accept-then-RST: OLD_REV with a one-line patch, applied to a scratch worktree and never committed,
#           that closes the client with SO_LINGER 0 (SocketTuning.Reset) when its service is known down
# Clients, all at once, one request every 100 ms like a health script: redis-cli PING, the mariadb CLI
# (select 1), curl (plain, and with --retry 5 --retry-connrefused), and bench/refusal-pool: a StackExchange.Redis
# multiplexer and MySqlConnector's pool, each with its library's defaults.
# One repetition: every client succeeds; the three services stop; DOWN s later (the mesh knows them down after
# ~2 s: tcp check every 1 s, fall 2) they start again, and T is when each answers on its own port; then wait
# until every client has succeeded again. A probe on each entry (a connect and a read every 50 ms from T) shows
# when the mesh itself carries flows again, so a client's own delay is its recovery less that.
# usage: bench/refusal.sh [REPS] [OLD_REV]     (default 5; as root: needs apt-get for redis/mariadb if missing)
#   KINDS="refuse" runs some kinds only; DOWN=S sets how long the services stay down (default 12).
#   KEEP=1 keeps the raw data (each client's requests, the gateways' logs) in /tmp/mesh-refusal.*.
#   REFUSAL_BUILDS=DIR keeps the builds in DIR (DIR/{close,refuse,reset,pool}) and reuses them next time
#   (remove DIR after a change to the code or another OLD_REV).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
reps=${1:-5}
old_rev=${2:-5fb52d8}
down_s=${DOWN:-12}
work=$(mktemp -d /tmp/mesh-refusal.XXXX)
builds=${REFUSAL_BUILDS:-$work/builds}
results="$root/bench/results"
mkdir -p "$results" "$builds"

need() { command -v "$1" >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }; }
need redis-server redis-server; need redis-cli redis-tools; need mariadbd mariadb-server; need mariadb mariadb-client; need curl curl

svc_pids=() mesh_pids=() client_pids=()
scratch=""
cleanup() {
  stop_clients; stop_mesh; stop_services
  [ -n "$scratch" ] && git worktree remove --force "$scratch" 2>/dev/null
  if [ -n "${KEEP:-}" ]; then rm -rf "$work/mariadb" "$work/state"; echo "raw data: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
ms() { local t=${1:-$EPOCHREALTIME}; echo $(( ${t/./} / 1000 )); }   # epoch milliseconds
log() { echo "$(date -u +%T) $*" >&2; }

# ---- the three builds: this tree (refuse), OLD_REV (close), OLD_REV + reset patch (reset); and the pool client
build() { dotnet build "$1" -c Release -o "$2" --nologo -v quiet >/dev/null; }
if [ ! -f "$builds/refuse/Mesh.Node.dll" ]; then
  log "building this tree"; build src/Mesh.Node "$builds/refuse"; build src/Mesh.Cli "$builds/refuse"
fi
if [ ! -f "$builds/close/Mesh.Node.dll" ] || [ ! -f "$builds/reset/Mesh.Node.dll" ]; then
  scratch="$work/old-src"
  git worktree add -f --detach "$scratch" "$old_rev" >/dev/null 2>&1
  log "building $old_rev"; (cd "$scratch" && build src/Mesh.Node "$builds/close")
  # the reset patch: a client of a service known down is closed with RST (SO_LINGER 0) instead of FIN
  sed -i 's#is { } down) return \(FlowOutcome.Refused(.*);\)$#is { } down) { SocketTuning.Reset(client); return \1 }#' \
    "$scratch/src/Mesh.Gateway/Flows/ClientFlow.cs"
  git -C "$scratch" diff --quiet && { echo "the reset patch no longer applies to $old_rev (src/Mesh.Gateway/Flows/ClientFlow.cs)"; exit 1; }
  log "building $old_rev + reset patch"; (cd "$scratch" && build src/Mesh.Node "$builds/reset")
  git worktree remove --force "$scratch"; scratch=""
fi
[ -f "$builds/pool/refusal-pool.dll" ] || build bench/refusal-pool "$builds/pool"

# ---- the services, owned by core2; entries for them on core1
# (every program started in the background is exec'd in its subshell, so that $! is its own pid: with a trap
# set, bash forks once more for a plain `cmd &`, and killing $! would leave the program running)
REDIS=61379 MYSQL=61306 HTTP=61080          # the services themselves
E_REDIS=62379 E_MYSQL=62306 E_HTTP=62080    # their entries
mkdir -p "$work/www" && echo ok >"$work/www/index.html"
mariadb-install-db --no-defaults --datadir="$work/mariadb" --user=root --auth-root-authentication-method=normal \
  --skip-test-db >/dev/null 2>&1
echo "CREATE USER IF NOT EXISTS 'bench'@'127.0.0.1';" >"$work/init.sql"
start_services() {
  (exec redis-server --port $REDIS --bind 127.0.0.1 --save "" --appendonly no >/dev/null 2>&1) & svc_pids+=($!)
  (exec mariadbd --no-defaults --datadir="$work/mariadb" --user=root --port=$MYSQL --bind-address=127.0.0.1 \
    --socket="$work/mariadb/sock" --pid-file="$work/mariadb/pid" --skip-networking=0 --skip-name-resolve \
    --init-file="$work/init.sql" --innodb-buffer-pool-size=16M --log-error="$work/mariadb.err" >/dev/null 2>&1) & svc_pids+=($!)
  (cd "$work/www" && exec python3 -m http.server $HTTP --bind 127.0.0.1 >/dev/null 2>&1) & svc_pids+=($!)
}
stop_services() { [ ${#svc_pids[@]} = 0 ] || { kill "${svc_pids[@]}" 2>/dev/null || true; wait "${svc_pids[@]}" 2>/dev/null || true; }; svc_pids=(); }
start_services
for p in $REDIS $MYSQL $HTTP; do python3 bench/refusal.py wait-port $p >/dev/null; done

dotnet "$builds/refuse/mesh.dll" ca init --out "$work/pki" --mesh refusal >/dev/null
for n in core1 core2; do dotnet "$builds/refuse/mesh.dll" cert issue $n --role core --ca "$work/pki" --out "$work/pki" >/dev/null; done
check='check = { kind = "tcp", interval = "1s", fall = 2, rise = 1 }'
cat >"$work/mesh.toml" <<CONF
[mesh]
name = "refusal"
[gateways.core1]
links = ["127.0.0.1:61441"]
[gateways.core2]
links = ["127.0.0.1:61442"]
[services.redis]
gateway = "core2"
target = "127.0.0.1:$REDIS"
$check
[services.mysql]
gateway = "core2"
target = "127.0.0.1:$MYSQL"
$check
[services.http]
gateway = "core2"
target = "127.0.0.1:$HTTP"
$check
[[entries]]
gateway = "core1"
listen = "127.0.0.1:$E_REDIS"
service = "redis"
[[entries]]
gateway = "core1"
listen = "127.0.0.1:$E_MYSQL"
service = "mysql"
[[entries]]
gateway = "core1"
listen = "127.0.0.1:$E_HTTP"
service = "http"
CONF

start_mesh() {   # KIND
  rm -rf "$work/state"
  for i in 1 2; do
    extra=(); [ $i = 1 ] && extra=(--config "$work/mesh.toml" --state-dir "$work/state")
    (cd "$work" && exec dotnet "$builds/$1/Mesh.Node.dll" --name core$i --listen 127.0.0.1:6144$i --cluster-port 6145$i \
       --join 127.0.0.1:61451,127.0.0.1:61452 --cert "$work/pki/core$i.crt" --key "$work/pki/core$i.key" \
       --ca "$work/pki/ca.crt" "${extra[@]}") >"$work/$1/core$i.log" 2>&1 & mesh_pids+=($!)
  done
  # ready when each entry carries a flow to its service
  python3 bench/refusal.py probe $E_REDIS redis 90 >/dev/null && python3 bench/refusal.py probe $E_MYSQL mysql 60 >/dev/null \
    && python3 bench/refusal.py probe $E_HTTP http 60 >/dev/null || { log "$1: the mesh never carried flows; its logs: $work/$1"; tail -5 "$work/$1"/core*.log >&2; exit 1; }
}
stop_mesh() { [ ${#mesh_pids[@]} = 0 ] || { kill "${mesh_pids[@]}" 2>/dev/null || true; wait "${mesh_pids[@]}" 2>/dev/null || true; }; mesh_pids=(); }

# ---- the clients: one line per request, START_MS END_MS EXIT_CODE OUTPUT (bench/refusal.py reads them)
loop() {   # FILE COMMAND...   until $work/stop exists
  local out=$1 s e rc msg; shift
  while [ ! -e "$work/stop" ]; do
    s=$EPOCHREALTIME; msg=$("$@" 2>&1) && rc=0 || rc=$?; e=$EPOCHREALTIME
    printf '%s\t%s\t%s\t%s\n' "$(ms "$s")" "$(ms "$e")" "$rc" "$(tr '\t\n' '  ' <<<"$msg")" >>"$out"
    sleep 0.1
  done
}
url="http://127.0.0.1:$E_HTTP/index.html"
start_clients() {   # DIR
  rm -f "$work/stop"
  loop "$1/redis-cli.tsv" redis-cli -h 127.0.0.1 -p $E_REDIS ping & client_pids+=($!)
  loop "$1/mariadb.tsv" mariadb --no-defaults -h 127.0.0.1 -P $E_MYSQL -u bench -N -e 'select 1' & client_pids+=($!)
  loop "$1/curl.tsv" curl -sS -o /dev/null -w '%{http_code}' "$url" & client_pids+=($!)
  loop "$1/curl-retry.tsv" curl -sS -o /dev/null -w '%{http_code}' --retry 5 --retry-connrefused "$url" & client_pids+=($!)
  (exec dotnet "$builds/pool/refusal-pool.dll" redis $E_REDIS >"$1/StackExchange.Redis.tsv" 2>&1) & client_pids+=($!)
  (exec dotnet "$builds/pool/refusal-pool.dll" mysql $E_MYSQL bench >"$1/MySqlConnector.tsv" 2>&1) & client_pids+=($!)
}
stop_clients() {
  touch "$work/stop"
  [ ${#client_pids[@]} = 0 ] && return 0
  for p in "${client_pids[@]}"; do
    for _ in $(seq 1 20); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill $(pgrep -P "$p") "$p" 2>/dev/null || true   # a client still waiting (curl's retries; a pool) and its loop
  done
  wait "${client_pids[@]}" 2>/dev/null || true; client_pids=()
}
# DIR MS TIMEOUT_S: true once every client has succeeded since MS, false after TIMEOUT_S
clients_ok_since() { python3 bench/refusal.py ok-since "$1" "$2" "$3"; }

for kind in ${KINDS:-close refuse reset}; do
  mkdir -p "$work/$kind"
  log "$kind: starting core1 and core2"
  start_mesh $kind
  for rep in $(seq 1 "$reps"); do
    dir="$work/$kind/$rep"; mkdir -p "$dir"
    start_clients "$dir"
    clients_ok_since "$dir" "$(ms)" 30 || log "$kind $rep: not every client succeeded before the outage"
    echo "down $(ms)" >"$dir/times"
    stop_services
    sleep $((down_s - 1))
    # one watcher polls each service's own port from before it starts, then its entry from when it is up
    (exec python3 bench/refusal.py watch redis:$REDIS:$E_REDIS,mysql:$MYSQL:$E_MYSQL,http:$HTTP:$E_HTTP 90 >>"$dir/times") & watcher=$!
    sleep 1
    echo "restart $(ms)" >>"$dir/times"
    start_services
    wait $watcher || true
    clients_ok_since "$dir" "$(sed -n 's/^restart //p' "$dir/times")" 60 || log "$kind $rep: a client had not recovered 60 s after the restart"
    sleep 1
    stop_clients
    log "$kind $rep: $(tr '\n' ' ' <"$dir/times")"
  done
  stop_mesh
done
stop_services

out="$results/refusal-$(date -u +%Y%m%dT%H%M%SZ)"
python3 bench/refusal.py collect "$work" "$reps" >"$out.tsv"
python3 bench/refusal.py report "$out.tsv" | tee "$out.md"
