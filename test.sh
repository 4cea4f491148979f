#!/usr/bin/env bash
# Runs every test on a fresh machine: installs what the tests need, then `dotnet test`.
# Usage: ./test.sh [extra dotnet test arguments, e.g. --filter FullyQualifiedName~Config]
set -euo pipefail
cd "$(dirname "$0")"
dotnet test Mesh.sln -c Release --logger "console;verbosity=normal" "$@"
