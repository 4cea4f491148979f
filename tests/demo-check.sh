#!/usr/bin/env bash
# Checks ./demo.sh as a new user runs it: it comes up, `./demo.sh stop echo` makes `mesh status` report
# echo down (exit 1) and `./demo.sh start echo` up again (exit 0), and a signal to demo.sh alone stops
# every process it started and frees every port it used. Once per signal named (default TERM).
# Usage: tests/demo-check.sh [TERM|INT|HUP]...       (~1 min per signal on 2 cores, the build included)
# The demo's ports are fixed (samples/quickstart/mesh.toml): nothing else may use them meanwhile.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
ports='7441|7442|4053|4054|7500|7501|7600|7601|7602|7680|7681'
out=$(mktemp -d /tmp/mesh-demo-check-XXXXXX)
fail() { echo "demo-check: FAILED: $*"; echo "demo.sh's output: $out/demo-SIG$signal.out; the demo's logs: .demo/logs/"; exit 1; }
signal=""
listening() { ss -Hltn | awk '{print $4}' | grep -E ":($ports)\$" || true; }
within() {       # within SECONDS COMMAND...: until the command succeeds, polling every second
  local until=$(( $(date +%s) + $1 )); shift
  until "$@"; do [ "$(date +%s)" -lt "$until" ] || return 1; sleep 1; done
}
status_is() {    # status_is CODE: `mesh status` exits CODE (1: something down)
  local rc=0
  dotnet .demo/bin/mesh.dll status > "$out/status.out" 2>&1 || rc=$?
  [ "$rc" = "$1" ]
}

[ -z "$(listening)" ] || fail "a demo port is in use before the start (a demo running?): $(listening | tr '\n' ' ')"
trap './demo.sh stop >/dev/null 2>&1 || true' EXIT   # a failed check leaves no demo running
for signal in "${@:-TERM}"; do
  case $signal in TERM) code=143 ;; INT) code=130 ;; HUP) code=129 ;; *) echo "usage: $0 [TERM|INT|HUP]..." >&2; exit 2 ;; esac
  echo "demo-check: SIG$signal: starting ./demo.sh"
  rm -f "$out/demo.rc"
  log="$out/demo-SIG$signal.out"
  # set -m: without job control bash starts a background command with SIGINT ignored, which a
  # terminal's Ctrl+C never meets; setsid: its own session, so the signal reaches demo.sh alone.
  (set -m; setsid bash -c "./demo.sh > '$log' 2>&1; echo \$? > '$out/demo.rc'" </dev/null >/dev/null 2>&1 &)
  within 300 grep -qs "The mesh is up" "$log" || fail "the demo was not up within 300 s"
  demo=$(cat .demo/pids/demo.pid) || fail "the demo is up but .demo/pids/demo.pid is missing"
  ./demo.sh ps > "$out/ps.out"
  started=$(awk '$2 == "process" {print $3}' "$out/ps.out")
  [ "$(echo "$started" | wc -l)" -ge 5 ] || fail "./demo.sh ps lists fewer than 5 processes: $(cat "$out/ps.out")"

  export MESH_API=127.0.0.1:7680,127.0.0.1:7681 MESH_API_TOKEN; MESH_API_TOKEN=$(cat .demo/api.token)
  ./demo.sh stop echo
  within 60 status_is 1 && grep -q "down *echo" "$out/status.out" \
    || fail "mesh status did not report echo down within 60 s: $(cat "$out/status.out")"
  ./demo.sh start echo
  within 60 status_is 0 || fail "mesh status did not report all up within 60 s: $(cat "$out/status.out")"
  started="$started $(cat .demo/pids/echo.pid)"   # the echo the second invocation started is the demo's too
  echo "demo-check: SIG$signal: echo reported down and up again; sending SIG$signal to demo.sh ($demo)"

  kill -s "$signal" "$demo"
  within 90 test -s "$out/demo.rc" || fail "demo.sh still running 90 s after SIG$signal"
  [ "$(cat "$out/demo.rc")" = "$code" ] || fail "demo.sh exited $(cat "$out/demo.rc") after SIG$signal, not $code"
  for pid in $started; do [ ! -e "/proc/$pid/cwd" ] || fail "process $pid survived: $(tr '\0' ' ' < "/proc/$pid/cmdline")"; done
  left=$(pgrep -af "$root/.demo/bin" || true)
  [ -z "$left" ] || fail "processes of the demo left: $left"
  [ -z "$(listening)" ] || fail "ports still listening: $(listening | tr '\n' ' ')"
  echo "demo-check: SIG$signal: demo.sh exited $code; no process it started is left, its ports are free"
done
rm -rf "$out"
echo "demo-check: passed"
