#!/usr/bin/env bash
# Runs every test on a fresh machine: installs what the tests need, then `dotnet test`.
# Usage: ./test.sh [extra dotnet test arguments, e.g. --filter FullyQualifiedName~Config]
set -euo pipefail
cd "$(dirname "$0")"

# What the tests run for real, installed as root (CI) when missing; elsewhere those tests are skipped
# with the reason. iptables: the sites suite's NAT routers in network namespaces (docs/testing.md);
# redis-server: the director's Redis store (each test starts its own server on a free loopback port).
need=()
command -v iptables >/dev/null || need+=(iptables)
[ -x /usr/bin/redis-server ] || need+=(redis-server)
if [ "${#need[@]}" -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "${need[@]}" >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q "${need[@]}" >/dev/null; }
  systemctl disable --now redis-server >/dev/null 2>&1 || true   # the package starts one on 6379; the tests start their own
fi
# One test project at a time (-m:1): the end-to-end and sites suites run real processes with time bounds
# (an app refused within 5 s, flows back within 10 s), which a second suite on the same 2 cores blurs.
dotnet test Mesh.sln -c Release -m:1 --logger "console;verbosity=normal" "$@"
