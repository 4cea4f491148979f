#!/usr/bin/env bash
# Benchmarks Mesh beside a direct connection, socat, a stunnel pair and ssh -L, in one run, on
# loopback. Results (medians over rounds) go to stdout as a Markdown table and to bench/results/.
# usage: bench/run.sh [ROUNDS]     (default 2; needs root for apt-get and sshd)
#        ONLY='^(direct|Mesh mux)$' bench/run.sh 1   measures only the paths whose name matches (a quick look; the
#        ratios in docs/PERFORMANCE.md come from whole runs)
#        PROFILE=1 bench/run.sh 1   also records where the path's processes spend their CPU during the single-stream
#        iperf3 (perf record -g, JIT'd code named through perf maps): bench/results/profile-TIME-PATH.txt. perf
#        itself costs CPU: the figures of a profiled run are not for comparison.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
rounds=${1:-2}
work=$(mktemp -d /tmp/mesh-bench.XXXX)
results="$root/bench/results"
mkdir -p "$results"
ulimit -n "$(ulimit -Hn)"   # 2,000 idle flows need a few thousand descriptors per process

need() { command -v "$1" >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }; }
need iperf3 iperf3; need redis-server redis-server; need redis-benchmark redis-tools; need socat socat
need stunnel4 stunnel4; need ssh openssh-client; [ -x /usr/sbin/sshd ] || need sshd openssh-server

# The fixed ports below 61000 lie in Linux's ephemeral range: a connection of an earlier run (or of churn in
# this one) may hold one as its local port, and a listener that cannot bind ends its path (stunnel quit on
# 36380 once). They are reserved for the run, and the old reservation is put back at the end.
reserved_before=$(cat /proc/sys/net/ipv4/ip_local_reserved_ports)
bench_ports=2222,25201,26379,35201,35202,36379,36380,45201,46379,54061-54062,55201,56379,57441-57442,58201,58379
echo "${reserved_before:+$reserved_before,}$bench_ports" >/proc/sys/net/ipv4/ip_local_reserved_ports
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; echo "$reserved_before" >/proc/sys/net/ipv4/ip_local_reserved_ports; }
trap cleanup EXIT
bg() { "$@" >"$work/$(basename "$1").$RANDOM.log" 2>&1 & pids+=($!); }
wait_port() { for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened"; exit 1; }

# ---- the services: iperf3 and redis, reached directly or through each path
IPERF=9201 REDIS=9379
bg iperf3 -s -p $IPERF
bg redis-server --port $REDIS --bind 127.0.0.1 --save "" --appendonly no --maxclients 20000
wait_port $IPERF; wait_port $REDIS

# ---- socat: a plain forwarder, a process per connection (no encryption: the floor of a user-space relay)
# nodelay on both sides, as stunnel and ssh set TCP_NODELAY by default (measured: no change in churn or GET
# here, 1,680-1,830 vs 1,810-2,220 new conn/s); socat logs nothing unless asked (-d), so nothing to turn off.
bg socat TCP-LISTEN:25201,fork,reuseaddr,backlog=4096,nodelay TCP:127.0.0.1:$IPERF,nodelay
bg socat TCP-LISTEN:26379,fork,reuseaddr,backlog=4096,nodelay TCP:127.0.0.1:$REDIS,nodelay

# ---- stunnel pair: plain -> TLS -> plain, two processes (the shape of two gateways), at its best:
# - syslog = no: stunnel logs to syslog as well as stderr by default; with no syslog daemon (no /dev/log, as on
#   this machine) glibc writes every line to /dev/console instead, ~2 ms a line under stunnel's log lock.
#   That alone held the pair at 63-130 new conn/s; without it 610-920/s (issue 18).
# - debug = 3 (errors only): notice level logs 4 lines per connection in each process; errors only is what a
#   busy relay runs with (940-1,100 new conn/s beside 610-920 at notice, same run).
# - the client verifies the server's certificate (verifyPeer, CAfile), as Mesh's gateways verify each other;
#   it keeps stunnel's defaults otherwise (TLS 1.3, session resumption, TCP_NODELAY, TIMEOUTclose: setting it
#   to 0 halved churn and logged an error per connection).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bench \
  -keyout "$work/stunnel.key" -out "$work/stunnel.crt" 2>/dev/null
cat >"$work/stunnel-client.conf" <<CONF
foreground = yes
pid =
syslog = no
debug = 3
verifyPeer = yes
CAfile = $work/stunnel.crt
[iperf]
client = yes
accept = 127.0.0.1:35201
connect = 127.0.0.1:35202
[redis]
client = yes
accept = 127.0.0.1:36379
connect = 127.0.0.1:36380
CONF
cat >"$work/stunnel-server.conf" <<CONF
foreground = yes
pid =
syslog = no
debug = 3
cert = $work/stunnel.crt
key = $work/stunnel.key
[iperf]
accept = 127.0.0.1:35202
connect = 127.0.0.1:$IPERF
[redis]
accept = 127.0.0.1:36380
connect = 127.0.0.1:$REDIS
CONF
bg stunnel4 "$work/stunnel-server.conf"
bg stunnel4 "$work/stunnel-client.conf"

# ---- ssh -L through a private sshd on loopback, at its best: aes128-gcm (AES-NI) instead of the default
# chacha20-poly1305 (one stream 2.95/4.02 vs 1.96/2.32 Gbit/s, same run; churn and GET unchanged), no
# compression, no DNS lookup of the client by sshd. All forwarded flows share the one SSH connection, so
# ControlMaster (sharing it between ssh invocations) would change nothing here.
mkdir -p /run/sshd
ssh-keygen -q -t ed25519 -N "" -f "$work/hostkey"
ssh-keygen -q -t ed25519 -N "" -f "$work/userkey"
cp "$work/userkey.pub" "$work/authorized_keys"
cat >"$work/sshd_config" <<CONF
Port 2222
ListenAddress 127.0.0.1
HostKey $work/hostkey
AuthorizedKeysFile $work/authorized_keys
PermitRootLogin yes
PasswordAuthentication no
StrictModes no
PidFile $work/sshd.pid
MaxStartups 4000
MaxSessions 4000
UseDNS no
Compression no
CONF
bg /usr/sbin/sshd -D -f "$work/sshd_config"
wait_port 2222
bg ssh -N -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -i "$work/userkey" -p 2222 \
  -c aes128-gcm@openssh.com -o Compression=no \
  -L 45201:127.0.0.1:$IPERF -L 46379:127.0.0.1:$REDIS root@127.0.0.1

if [ -n "${PROFILE:-}" ]; then
  command -v perf >/dev/null || need perf linux-perf
  export DOTNET_PerfMapEnabled=1   # JIT'd frames get names (/tmp/perf-PID.map)
fi

# ---- Mesh: the entry on core1, the services owned by core2, over a TLS link; and relayed: the entry on
# edge1, the services owned by edge2, through core1 (two edges only dial out, so they meet at a core)
dotnet build src/Mesh.Node -c Release -o "$work/bin" --nologo -v quiet >/dev/null
dotnet build src/Mesh.Cli -c Release -o "$work/bin" --nologo -v quiet >/dev/null
dotnet "$work/bin/mesh.dll" ca init --out "$work/pki" --mesh bench >/dev/null
for n in core1 core2; do dotnet "$work/bin/mesh.dll" cert issue $n --role core --ca "$work/pki" --out "$work/pki" >/dev/null; done
for n in edge1 edge2; do dotnet "$work/bin/mesh.dll" cert issue $n --ca "$work/pki" --out "$work/pki" >/dev/null; done
# start_mesh MODE P: a mesh of four gateways with link_mode MODE; ports are P plus fixed offsets (P=5 for pool,
# P=1 for mux): links P7441/P7442, cluster P4061/P4062, entries P5201 (iperf) and P6379 (redis) on core1,
# P8201 and P8379 on edge1 (relayed through a core).
start_mesh() {
  local mode=$1 p=$2 dir="$work/mesh-$1"
  mkdir -p "$dir"
  cat >"$dir/mesh.toml" <<CONF
[mesh]
name = "bench"
pool_size = 16
link_mode = "$mode"
[gateways.core1]
links = ["127.0.0.1:${p}7441"]
[gateways.core2]
links = ["127.0.0.1:${p}7442"]
[gateways.edge1]
[gateways.edge2]
[services.iperf-relayed]
gateway = "edge2"
target = "127.0.0.1:$IPERF"
check = { kind = "none" }     # iperf3 -s serves one test at a time: a probe's connection broke a measurement
[services.redis-relayed]
gateway = "edge2"
target = "127.0.0.1:$REDIS"
[services.iperf]
gateway = "core2"
target = "127.0.0.1:$IPERF"
check = { kind = "none" }
[services.redis]
gateway = "core2"
target = "127.0.0.1:$REDIS"
[[entries]]
gateway = "core1"
listen = "127.0.0.1:${p}5201"
service = "iperf"
[[entries]]
gateway = "core1"
listen = "127.0.0.1:${p}6379"
service = "redis"
max_connections = 4096        # hold.py holds 2,000 clients; the default (1024) resets the rest, as it should
[[entries]]
gateway = "edge1"
listen = "127.0.0.1:${p}8201"
service = "iperf-relayed"
[[entries]]
gateway = "edge1"
listen = "127.0.0.1:${p}8379"
service = "redis-relayed"
max_connections = 4096
CONF
  local join=127.0.0.1:${p}4061,127.0.0.1:${p}4062
  for i in 1 2; do
    extra=(); [ $i = 1 ] && extra=(--config "$dir/mesh.toml" --state-dir "$dir/state")
    (cd "$dir" && exec dotnet "$work/bin/Mesh.Node.dll" --name core$i --listen 127.0.0.1:${p}744$i --cluster-port ${p}406$i \
       --join $join --cert "$work/pki/core$i.crt" --key "$work/pki/core$i.key" --ca "$work/pki/ca.crt" "${extra[@]}") \
       >"$dir/core$i.log" 2>&1 &
    pids+=($!)
  done
  for i in 1 2; do
    (cd "$dir" && exec dotnet "$work/bin/Mesh.Node.dll" --name edge$i --join 127.0.0.1:${p}7441,127.0.0.1:${p}7442 \
       --cert "$work/pki/edge$i.crt" --key "$work/pki/edge$i.key" --ca "$work/pki/ca.crt") >"$dir/edge$i.log" 2>&1 &
    pids+=($!)
  done
  for _ in $(seq 1 300); do grep -q "link to core2 up" "$dir/core1.log" 2>/dev/null && grep -q "entry 127.0.0.1:${p}6379" "$dir/core1.log" \
    && grep -q "gateway core2: route table" "$dir/core2.log" && grep -q "link to core1 up" "$dir/edge2.log" 2>/dev/null \
    && grep -q "gateway edge2: route table" "$dir/edge2.log" && break; sleep 0.2; done
  for port in ${p}5201 ${p}6379 ${p}8201 ${p}8379; do wait_port $port; done
}
start_mesh pool 5
start_mesh mux 1
for p in 35201 36379 45201 46379; do wait_port $p; done

# ---- measurements
# path name | iperf port | redis port | processes whose memory is the path's (regex on command lines)
paths=(
  "direct|$IPERF|$REDIS|^$"
  "socat|25201|26379|^socat TCP-LISTEN:26379"
  "stunnel pair|35201|36379|^stunnel4 "
  "ssh -L|45201|46379|^ssh -N|^sshd: root"
  "Mesh|55201|56379|Mesh.Node.dll --name core[12] --listen 127.0.0.1:57"
  "Mesh relayed|58201|58379|Mesh.Node.dll --name (edge1 --join 127.0.0.1:57|core1 --listen 127.0.0.1:57|edge2 --join 127.0.0.1:57)"
  "Mesh mux|15201|16379|Mesh.Node.dll --name core[12] --listen 127.0.0.1:17"
  "Mesh mux relayed|18201|18379|Mesh.Node.dll --name (edge1 --join 127.0.0.1:17|core1 --listen 127.0.0.1:17|edge2 --join 127.0.0.1:17)"
)
# MUX_FIRST=1 measures the mux paths before the pool's: each path opens some 20,000 connections, and whether
# what came before moves a path's figures is a question of its own (docs/PERFORMANCE.md, Link modes)
if [ -n "${MUX_FIRST:-}" ]; then paths=("${paths[@]:0:4}" "${paths[@]:6:2}" "${paths[@]:4:2}"); fi
csv() { redis-benchmark -h 127.0.0.1 "$@" --csv 2>/dev/null; }
field() { python3 -c "import csv,sys; rows=[r for r in csv.DictReader(sys.stdin) if r['test']=='$1']; print(rows[0]['$2'] if rows else 'nan')"; }
# iperf3's server takes one test at a time and may still be closing the last one: retry, then record nan
iperf() {
  local port=$1; shift
  for attempt in 1 2 3; do
    r=$(iperf3 -c 127.0.0.1 -p "$port" "$@" -J | gbits || true)
    [ "$r" != nan ] && { echo "$r"; return; }
    sleep 2
  done
  echo nan
}
# an iperf3 failure is reported on stderr and recorded as nan: one broken path must not end the run
gbits() { python3 -c "
import json,sys
r=json.load(sys.stdin)
if 'error' in r: print('iperf3:', r['error'], file=sys.stderr); print('nan')
else: print(round(r['end']['sum_received']['bits_per_second']/1e9,2))"; }

out="$results/raw-$(date -u +%Y%m%dT%H%M%SZ).tsv"
printf "round\tpath\tiperf1_gbit\tiperf4_gbit\tget_rps_c50\tp50_ms_c1\tp99_ms_c1\tconn_per_s\tidle_flows\trss_before_kib\trss_holding_kib\tkib_per_flow\n" >"$out"
for round in $(seq 1 "$rounds"); do
  for spec in "${paths[@]}"; do
    IFS='|' read -r name ip rp rx <<<"$spec"
    [[ -n "${ONLY:-}" && ! "$name" =~ $ONLY ]] && continue
    echo "round $round: $name" >&2
    if [ -n "${PROFILE:-}" ] && procs=$(pgrep -d, -f "$rx"); then
      data="$work/perf.data"
      perf record -q -F 999 -g -p "$procs" -o "$data" -- sleep 5 2>/dev/null &
      i1=$(iperf "$ip" -t 5)
      wait $!
      profile="$results/profile-$(date -u +%Y%m%dT%H%M%SZ)-${name// /-}.txt"
      { echo "# $name, iperf3 -t 5 (1 stream): $i1 Gbit/s while profiled; processes $procs"
        perf report -i "$data" --no-children --sort dso --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -15
        perf report -i "$data" --no-children --sort dso,sym --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -40
      } >"$profile" || true   # head closes the pipe early: not a failure of the run
      echo "profile: $profile" >&2
    else
      i1=$(iperf "$ip" -t 5)
    fi
    i4=$(iperf "$ip" -t 5 -P 4)
    get=$(csv -p "$rp" -t ping_inline,set,get -c 50 -n 200000 | field GET rps)
    lat=$(csv -p "$rp" -t get -c 1 -n 20000)
    p50=$(field GET p50_latency_ms <<<"$lat"); p99=$(field GET p99_latency_ms <<<"$lat")
    churn=$(csv -p "$rp" -t ping_inline -c 50 -n 5000 -k 0 | field PING_INLINE rps)
    hold=$(python3 bench/hold.py "$rp" 2000 "${rx}")
    read -r conns before holding per <<<"$(python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(d['connections'], d['rss_before_kib'], d['rss_holding_kib'], d['kib_per_flow'])" "$hold")"
    printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n" "$round" "$name" "$i1" "$i4" "$get" "$p50" "$p99" "$churn" "$conns" "$before" "$holding" "$per" >>"$out"
  done
done
python3 bench/report.py "$out"
