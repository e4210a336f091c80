#!/usr/bin/env bash
# The README's test command (`npm test`): installs pnpm, the dependencies, and redis-server and
# redis-sentinel when missing, builds the packages, starts a throwaway Redis unless REDIS_URL is
# given and a throwaway 3-master Redis Cluster unless REDIS_CLUSTER_NODES is given, type-checks,
# runs every test, and stops the servers it started.
# Extra arguments go to jest, e.g. `npm test -- test/core/http.test.ts`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_pnpm
pnpm install --frozen-lockfile
pnpm build
# Always: the reliability tests start redis-server and redis-sentinel processes of their own.
ensure_redis_server
if [ -z "${REDIS_URL:-}" ]; then
  start_redis
fi
if [ -z "${REDIS_CLUSTER_NODES:-}" ]; then
  start_redis_cluster
fi
pnpm typecheck
mkdir -p .tmp
status=0
pnpm exec jest --json --outputFile=.tmp/jest-results.json "$@" || status=$?
# One closing line that any CI log reader understands.
node -e 'const r = require("./.tmp/jest-results.json"); console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""))' || true
exit "$status"
