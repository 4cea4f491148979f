#!/usr/bin/env bash
# bench/churn.sh REV: builds Mesh at git revision REV in a worktree, runs core1 (entry) -> core2 (owns a
# redis-server) on loopback, and measures new connections per second through the entry
# (redis-benchmark -t ping_inline -c 50 -n 5000 -k 0, three runs after a warm-up), then direct.
# Quick enough (~2 min) to compare two revisions or bisect a regression of flow setup.
# LINK_MODE=mux bench/churn.sh REV measures link mode mux ([mesh] link_mode; revisions that have it).
set -uo pipefail
rev=$1; mode=${LINK_MODE:-pool}; w=/tmp/churn-$rev-$mode; rm -rf $w; mkdir -p $w
git -C /work/main worktree add -f $w/src $rev >/dev/null 2>&1
cd $w/src
dotnet build src/Mesh.Node -c Release -o $w/bin --nologo -v quiet >/dev/null
dotnet build src/Mesh.Cli -c Release -o $w/bin --nologo -v quiet >/dev/null
dotnet $w/bin/mesh.dll ca init --out $w/pki --mesh bench >/dev/null
for n in core1 core2; do   # core certificates (older revisions had no roles)
  dotnet $w/bin/mesh.dll cert issue $n --role core --ca $w/pki --out $w/pki >/dev/null 2>&1 || dotnet $w/bin/mesh.dll cert issue $n --ca $w/pki --out $w/pki >/dev/null
done
cat > $w/mesh.toml <<CONF
[mesh]
name = "bench"
pool_size = 16
$( [ "$mode" = pool ] || echo "link_mode = \"$mode\"" )
[gateways.core1]
links = ["127.0.0.1:57441"]
[gateways.core2]
links = ["127.0.0.1:57442"]
[services.redis]
gateway = "core2"
target = "127.0.0.1:16379"
[[entries]]
gateway = "core1"
listen = "127.0.0.1:56379"
service = "redis"
CONF
pids=()
redis-server --port 16379 --bind 127.0.0.1 --save "" --appendonly no --maxclients 20000 >/dev/null & pids+=($!)
for n in 1 2; do
  (cd $w && exec dotnet $w/bin/Mesh.Node.dll --name core$n --listen 127.0.0.1:5744$n --cluster-port 5405$n --join 127.0.0.1:54051,127.0.0.1:54052 \
     --config $w/mesh.toml --state-dir $w/state$n --cert $w/pki/core$n.crt --key $w/pki/core$n.key --ca $w/pki/ca.crt) > $w/core$n.log 2>&1 & pids+=($!)
done
for _ in $(seq 1 120); do grep -q "entry 127.0.0.1:56379 for redis: listening" $w/core1.log 2>/dev/null && grep -q "link to core2 up" $w/core1.log && grep -q "gateway core2: route table" $w/core2.log && break; sleep 0.5; done
sleep 3
redis-benchmark -p 56379 -t ping_inline -c 50 -n 5000 -k 0 --csv -q >/dev/null   # warm up
for i in 1 2 3; do redis-benchmark -p 56379 -t ping_inline -c 50 -n 5000 -k 0 --csv -q | tail -1; done
redis-benchmark -p 16379 -t ping_inline -c 50 -n 5000 -k 0 --csv -q | tail -1 | sed 's/^/direct: /'
kill "${pids[@]}"; wait 2>/dev/null || true
git -C /work/main worktree remove --force $w/src
