#!/usr/bin/env bash
# The README's test command (`npm test`): installs pnpm and the dependencies, builds the packages,
# starts a throwaway Redis unless REDIS_URL is given, type-checks, and runs every test.
# Extra arguments go to jest, e.g. `npm test -- test/core/http.test.ts`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_pnpm
pnpm install --frozen-lockfile
pnpm build
if [ -z "${REDIS_URL:-}" ]; then
  ensure_redis_server
  start_redis
fi
pnpm typecheck
pnpm exec jest "$@"
