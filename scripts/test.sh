#!/usr/bin/env bash
# The README's test command (`npm test`): installs what is missing, each time saying first what and
# why (redis-server and redis-sentinel from Debian; the pinned pnpm into .tmp/pnpm, never globally),
# then the dependencies; builds the packages, starts a throwaway Redis unless REDIS_URL is given and
# a throwaway 3-master Redis Cluster unless REDIS_CLUSTER_NODES is given, type-checks, runs every
# test with coverage of packages/*/src (jest fails the run when a package is below the floor set in
# jest.config.cjs), and stops the servers it started. Each step prints one "==> " line as it starts.
# Extra arguments go to jest, e.g. `npm test -- test/core/http.test.ts`; such a partial run
# collects no coverage (it would miss the floor by design) unless COVERAGE=1 is set.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

# Always: the reliability tests start redis-server and redis-sentinel processes of their own.
ensure_redis_server
ensure_pnpm
echo "==> installing dependencies: pnpm install --frozen-lockfile (the versions pnpm-lock.yaml pins)"
pnpm install --frozen-lockfile
echo "==> building packages/*: ESM and CommonJS builds with type declarations, in dist/"
pnpm build
if [ -z "${REDIS_URL:-}" ]; then
  start_redis
else
  echo "==> using the Redis at REDIS_URL=$REDIS_URL"
fi
if [ -z "${REDIS_CLUSTER_NODES:-}" ]; then
  start_redis_cluster
else
  echo "==> using the Redis Cluster at REDIS_CLUSTER_NODES=$REDIS_CLUSTER_NODES"
fi
echo "==> typechecking packages and tests: tsc -p tsconfig.json --noEmit"
pnpm typecheck
mkdir -p .tmp
coverage=()
if [ $# -eq 0 ] || [ "${COVERAGE:-}" = 1 ]; then
  rm -rf coverage
  coverage=(--coverage)
  floor=$(node -p '[...new Set(Object.values(require("./jest.config.cjs").coverageThreshold).map((t) => t.lines))].join("/")' 2>/dev/null || echo '?')
  echo "==> running jest with coverage of packages/*/src (floor: ${floor}% of lines in each package, from jest.config.cjs)"
else
  echo "==> running jest $* (a partial run: no coverage; COVERAGE=1 adds it)"
fi
status=0
pnpm exec jest --json --outputFile=.tmp/jest-results.json "${coverage[@]}" "$@" || status=$?
if [ ${#coverage[@]} -gt 0 ]; then
  node scripts/coverage-summary.mjs || true
fi
# One closing line that any CI log reader understands.
node -e 'const r = require("./.tmp/jest-results.json"); console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""))' || true
exit "$status"
