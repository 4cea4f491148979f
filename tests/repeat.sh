#!/usr/bin/env bash
# Runs the test suite again and again, each time from a clean clone of HEAD, as CI does, and says which
# tests failed in which run: how the suite is proven stable (docs/testing.md).
# Usage: tests/repeat.sh RUNS [--hog] [dotnet test arguments, e.g. --filter FullyQualifiedName~EndToEnd]
#   --hog   a CPU hog beside the tests (stress-ng --cpu 1; installed with apt-get when missing, as root)
# Leaves a summary in .test-repeat/summary.txt and each run's output and results in .test-repeat/run-N/.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:?usage: tests/repeat.sh RUNS [--hog] [dotnet test arguments]}"; shift
hog=""
if [ "${1:-}" = "--hog" ]; then
  hog=1; shift
  command -v stress-ng >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q stress-ng >/dev/null
fi
out="$PWD/.test-repeat"
rm -rf "$out" && mkdir -p "$out"
head=$(git rev-parse --short HEAD)
echo "$(date -u +%FT%TZ) $runs runs of ${*:-the whole suite} on $head${hog:+, with stress-ng --cpu 1 beside}" | tee "$out/summary.txt"
passed=0
for i in $(seq 1 "$runs"); do
  clone=$(mktemp -d /tmp/mesh-repeat-XXXXXX)
  git clone -q "$PWD" "$clone"
  if [ -n "$hog" ]; then stress-ng --cpu 1 --quiet & hog_pid=$!; fi
  start=$(date +%s)
  status=0
  (cd "$clone" && MESH_TEST_RESULTS="$out/run-$i" ./test.sh "$@") > "$out/run-$i.log" 2>&1 || status=$?
  [ -n "$hog" ] && kill "$hog_pid" 2>/dev/null && wait "$hog_pid" 2>/dev/null || true
  took=$(( $(date +%s) - start ))
  failed=$(sed -n '/^Failed tests (/,/^Their messages/p' "$out/run-$i.log" | grep '^  ' || true)
  if [ "$status" -eq 0 ]; then passed=$((passed + 1)); echo "run $i: passed (${took}s)"; else
    echo "run $i: FAILED (exit $status, ${took}s)"; [ -n "$failed" ] && echo "$failed"; fi | tee -a "$out/summary.txt"
  rm -rf "$clone"
done
passed=$(grep -c ": passed" "$out/summary.txt" || true)   # counted here: the loop body runs in a pipeline subshell
echo "$passed of $runs runs passed" | tee -a "$out/summary.txt"
[ "$passed" -eq "$runs" ]
