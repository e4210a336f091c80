#!/usr/bin/env bash
# The README's demo command (`npm run demo`): installs pnpm and the dependencies, builds the
# packages, and runs the demo (Redis from REDIS_URL or 127.0.0.1:6379, else the memory store).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_pnpm
pnpm install --frozen-lockfile >/dev/null
pnpm build >/dev/null
exec node examples/demo/demo.mjs
