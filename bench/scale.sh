#!/usr/bin/env bash
# bench/scale.sh [--sizes 10,100,1000] [--check] [OPTIONS]: the director's control-plane work at 10 to 5,000
# gateways (issue 19), single-threaded, in one process, no network. For each size it generates a mesh config
# (5% core gateways, the rest edges; 10 services and 20 entries per gateway; every gateway dials every core and
# reports those links up, 1-40 ms) and measures, as medians of several runs (fewer at large sizes): loading it
# (RouteMapLoader), the working links from every report (WorkingLinks.From), every gateway's table
# (RouteTables.For), one core-edge link down (2 reports, then every gateway's delta), an unchanged report, the
# biggest table and all tables as the nodes' serializer writes them (MeshSerializer) and the CPU that takes,
# and the managed memory of the tables held. Prints a Markdown row per size (the targets of issue 19 under the
# 1,000 row), then the figures by size as in docs/PERFORMANCE.md; progress goes to stderr.
# A size whose tables would take longer than --budget SECONDS (600) is estimated from a sample of --sample N (10)
# tables, marked ~. --sizes 5000 is for running by hand (minutes). --runs N overrides the runs per figure.
# --check [GATEWAYS] (50, a few seconds): exits non-zero unless the tables gateways hold, applying deltas report by report, have the next
# hops of a computation from scratch (200 seeded link changes), and a link down then up gives the first tables.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/scale/Mesh.Bench.Scale.csproj -c Release --nologo -v quiet -clp:ErrorsOnly >&2   # stdout: the tables only
exec dotnet run -c Release --no-build --project bench/scale/Mesh.Bench.Scale.csproj -- "$@"
