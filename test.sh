#!/usr/bin/env bash
# Runs every test on a fresh machine: installs what the tests need, then `dotnet test`.
# Usage: ./test.sh [extra dotnet test arguments, e.g. --filter FullyQualifiedName~Config]
set -euo pipefail
cd "$(dirname "$0")"

# What the tests run for real, installed as root (CI) when missing; elsewhere those tests are skipped
# with the reason. iptables: the sites suite's NAT routers in network namespaces (docs/testing.md);
# redis-server: the director's Redis store (each test starts its own server on a free loopback port);
# mariadb-server: the mysql health check logging in (each test starts a private mariadbd on a free port);
# bind9-dnsutils: dig, asking a gateway's --dns for the mesh's names (DnsSpec).
# mariadb-server is the largest of them: ~28 MB downloaded, ~200 MB installed, ~15 s (Debian 12).
# chromium: the topology page (/ui) in a real browser, driven headless by Playwright (no browser download).
need=()
command -v iptables >/dev/null || need+=(iptables)
[ -x /usr/bin/redis-server ] || need+=(redis-server)
[ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
[ -x /usr/bin/dig ] || need+=(bind9-dnsutils)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ "${#need[@]}" -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "${need[@]}" >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q "${need[@]}" >/dev/null; }
  systemctl disable --now redis-server >/dev/null 2>&1 || true   # the package starts one on 6379; the tests start their own
  systemctl disable --now mariadb >/dev/null 2>&1 || true        # likewise on 3306
fi
# One test project at a time (-m:1): the end-to-end and sites suites run real processes with time bounds
# (an app refused within 5 s, flows back within 10 s), which a second suite on the same 2 cores blurs.
# Each project's results (every test's message, stack and output) go to a .trx file in $results; every
# gateway a test started leaves its log in $results/logs/MESH/NAME.log (kept when something failed).
results="${MESH_TEST_RESULTS:-$PWD/.test-results}"
rm -rf "$results" && mkdir -p "$results/logs"
export MESH_TEST_LOGS="$results/logs" MESH_TEST_RESULTS="$results"   # the topology page's screenshot: $results/ui.png
status=0
# The build first, with every core (-m:1 below would build one project at a time as well), then the tests.
dotnet build Mesh.sln -c Release --nologo -v quiet -clp:ErrorsOnly || { echo "the build failed (its errors are above): no test ran"; exit 1; }
dotnet test Mesh.sln -c Release --no-build -m:1 --logger "console;verbosity=normal" --logger trx --results-directory "$results" \
  --blame-hang-timeout 10m --blame-hang-dump-type none "$@" || status=$?

# The scale benchmark's correctness check at a small size (bench/scale.sh; ~25 s with its build): the tables the
# director keeps report by report have the next hops of a computation from scratch.
echo "bench/scale.sh --check:"
bench/scale.sh --check 2>&1 | tail -1 || status=1

failed=$(grep -ho '<UnitTestResult [^>]*outcome="Failed"' "$results"/*.trx 2>/dev/null | sed -E 's/.*testName="([^"]*)".*/\1/' | sed 's/&quot;/"/g' | sort -u || true)
if [ -n "$failed" ]; then
  echo
  echo "Failed tests ($(echo "$failed" | wc -l)):"
  echo "$failed" | sed 's/^/  /'
  echo "Their messages, stacks and output: $results/*.trx; each gateway's log: $results/logs/MESH/NAME.log (MESH is named in a failed wait's message)."
elif [ "$status" -ne 0 ]; then
  echo "dotnet test exited $status with no failed test recorded (a build error, or a test host that crashed: see above)."
else
  rm -rf "$results/logs"
fi
exit "$status"
