#!/usr/bin/env bash
# The hot-key targets in one command: builds this checkout's packages and, with
# `--baseline=<commit>`, that commit's (once, in a folder of its own under $TMPDIR), starts a
# throwaway redis-server on a free loopback port (scripts/lib.sh), and runs bench/targets.mjs with
# the remaining options; stops Redis at exit.
#   bash bench/targets.sh --baseline=4477869            # the table of bench/README.md (about 8 min)
#   bash bench/targets.sh --only=fastify-allowed --rounds=3
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_redis_server
args=()
base_dir=''
for arg in "$@"; do
  case $arg in
    --baseline=*)
      commit=$(git rev-parse --short "${arg#--baseline=}")
      base_dir=${TMPDIR:-/tmp}/tokenbucket-bench-$commit
      if [ ! -f "$base_dir/.built" ]; then
        echo "==> building $commit in $base_dir (once)" >&2
        rm -rf "$base_dir" && mkdir -p "$base_dir"
        git archive "$commit" | tar -x -C "$base_dir"
        (cd "$base_dir" && pnpm install --frozen-lockfile --prefer-offline && pnpm build) >&2
        touch "$base_dir/.built"
      fi
      args+=("--baseline-dir=$base_dir" "--baseline-label=before, $commit")
      ;;
    *) args+=("$arg") ;;
  esac
done
pnpm build >&2
start_redis >&2
BENCH_REDIS_URL=$REDIS_URL node bench/targets.mjs "${args[@]}"
