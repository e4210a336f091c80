# Shared by scripts/test.sh, scripts/demo.sh and .ci/run: install pnpm and redis-server when
# missing, start and stop a throwaway Redis on a free loopback port.

# The pnpm version pinned by package.json's packageManager field.
pinned_pnpm() {
  node -p "require('./package.json').packageManager.split('@')[1]"
}

# Puts the pinned pnpm on PATH: a global npm install, or a project-local one without root.
ensure_pnpm() {
  local want
  want=$(pinned_pnpm)
  if command -v pnpm >/dev/null 2>&1 && [ "$(pnpm --version 2>/dev/null)" = "$want" ]; then
    return
  fi
  echo "==> installing pnpm@$want"
  if ! npm install --global --no-fund --no-audit "pnpm@$want" >/dev/null 2>&1; then
    npm install --prefix .tmp/pnpm --no-fund --no-audit --no-save "pnpm@$want" >/dev/null
    export PATH="$PWD/.tmp/pnpm/node_modules/.bin:$PATH"
  fi
  hash -r
  pnpm --version >/dev/null
}

# Installs Debian's redis-server (which brings redis-cli) when it is not on the machine.
ensure_redis_server() {
  command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 && return
  echo "==> installing redis-server from Debian"
  local sudo=''
  [ "$(id -u)" -eq 0 ] || sudo='sudo'
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server >/dev/null
}

# Prints a TCP port that is free on 127.0.0.1 right now.
free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

# Starts redis-server on a free loopback port, exports REDIS_URL, and stops it when the shell exits.
start_redis() {
  local port dir
  port=$(free_port)
  dir=$(mktemp -d "${TMPDIR:-/tmp}/tokenbucket-redis.XXXXXX")
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
  REDIS_STARTED_DIR=$dir
  trap stop_redis EXIT
  for _ in $(seq 1 100); do
    [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && break
    sleep 0.1
  done
  [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] || { cat "$dir/redis.log"; echo "redis-server did not start" >&2; exit 1; }
  export REDIS_URL="redis://127.0.0.1:$port"
  echo "==> redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') on $REDIS_URL"
}

stop_redis() {
  [ -n "${REDIS_STARTED_DIR:-}" ] || return 0
  if [ -f "$REDIS_STARTED_DIR/redis.pid" ]; then
    kill "$(cat "$REDIS_STARTED_DIR/redis.pid")" 2>/dev/null || true
    sleep 0.2
  fi
  rm -rf "$REDIS_STARTED_DIR"
  REDIS_STARTED_DIR=''
}
