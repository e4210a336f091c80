#!/usr/bin/env bash
# Entry of `pnpm bench` and `pnpm bench:quick`: starts a throwaway redis-server and, unless
# `--only=` leaves the cluster section out, a throwaway 3-master Redis Cluster, on free loopback
# ports (always their own: the bench flushes them and resets their statistics); runs bench.mjs
# with the given options; stops them at exit (scripts/lib.sh's EXIT trap).
set -euo pipefail
cd "$(dirname "$0")"
source ../scripts/lib.sh
ensure_redis_server
start_redis >&2
export BENCH_REDIS_URL=$REDIS_URL
cluster=yes
for arg in "$@"; do
  case $arg in
    --only=*) [[ ",${arg#--only=}," == *,cluster,* ]] || cluster=no ;;
  esac
done
if [ "$cluster" = yes ]; then
  start_redis_cluster >&2
  export BENCH_CLUSTER_NODES=$REDIS_CLUSTER_NODES
fi
node bench.mjs "$@"
