#!/usr/bin/env bash
# Runs every test on a fresh machine: installs what the tests need, then `dotnet test`.
# Usage: ./test.sh [extra dotnet test arguments, e.g. --filter FullyQualifiedName~Config]
set -euo pipefail
cd "$(dirname "$0")"

# The sites suite (tests/Mesh.EndToEnd.Tests/Sites, docs/testing.md) builds NAT routers with iptables in
# network namespaces: as root (CI), install what it needs; otherwise it is skipped with the reason.
if [ "$(id -u)" = 0 ] && ! command -v iptables >/dev/null && command -v apt-get >/dev/null; then
  apt-get install -y -q iptables >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q iptables >/dev/null; }
fi
dotnet test Mesh.sln -c Release --logger "console;verbosity=normal" "$@"
