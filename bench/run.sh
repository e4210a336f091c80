#!/usr/bin/env bash
# Entry of `pnpm bench` and `pnpm bench:quick`: starts a throwaway redis-server on a free loopback
# port (always its own: the bench flushes it and resets its statistics), runs bench.mjs, stops it.
set -euo pipefail
cd "$(dirname "$0")"
source ../scripts/lib.sh
ensure_redis_server
start_redis >&2
export BENCH_REDIS_URL=$REDIS_URL
node bench.mjs "$@"
