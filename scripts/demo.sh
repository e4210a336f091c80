#!/usr/bin/env bash
# The README's demo command (`npm run demo`): installs nothing outside the repository (the pinned
# pnpm, when it is not on PATH, goes to .tmp/pnpm, saying so first), installs the dependencies,
# builds the packages, and runs the demo (Redis from REDIS_URL or 127.0.0.1:6379, else the memory
# store). Each step prints one "==> " line as it starts.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_pnpm
echo "==> installing dependencies: pnpm install --frozen-lockfile (the versions pnpm-lock.yaml pins)"
pnpm install --frozen-lockfile >/dev/null
echo "==> building packages/*: ESM and CommonJS builds with type declarations, in dist/"
pnpm build >/dev/null
echo "==> running the demo: node examples/demo/demo.mjs"
exec node examples/demo/demo.mjs
