# Shared by scripts/test.sh, scripts/demo.sh and .ci/run: install pnpm and redis-server when
# missing (each says what it installs and why before it does), start and stop a throwaway Redis (and a throwaway 3-master Redis Cluster) on free
# loopback ports.

# The pnpm version pinned by package.json's packageManager field.
pinned_pnpm() {
  node -p "require('./package.json').packageManager.split('@')[1]"
}

# Puts the pinned pnpm on PATH, saying first what it installs and why. The one on PATH when it is
# the pinned version; else a project-local install under .tmp/pnpm (no root, nothing outside the
# repository: `npm test` and `npm run demo` leave the machine as they found it); with --global
# (.ci/run, the CI machine's set-up), a global npm install, and the local one when that fails.
ensure_pnpm() {
  local want have local_bin
  want=$(pinned_pnpm)
  have=$(pnpm --version 2>/dev/null || true)
  if [ "$have" = "$want" ]; then
    echo "==> pnpm $want (the version package.json pins) is already installed"
    return
  fi
  local_bin="$PWD/.tmp/pnpm/node_modules/.bin"
  if [ "$("$local_bin/pnpm" --version 2>/dev/null || true)" = "$want" ] && [ "${1:-}" != --global ]; then
    echo "==> using pnpm $want from .tmp/pnpm (the version package.json pins)"
    export PATH="$local_bin:$PATH"
    hash -r
    return
  fi
  local why="the scripts run pnpm $want, the version package.json pins (packageManager), and PATH has no pnpm"
  [ -z "$have" ] || why="the scripts run pnpm $want, the version package.json pins (packageManager), and PATH has pnpm $have"
  if [ "${1:-}" = --global ]; then
    echo "==> installing pnpm $want globally with npm (npm install --global pnpm@$want): $why"
    if npm install --global --no-fund --no-audit "pnpm@$want" >/dev/null 2>&1; then
      hash -r
      pnpm --version >/dev/null
      return
    fi
    echo "==> the global install failed (no permission?): installing it into .tmp/pnpm instead"
  else
    echo "==> installing pnpm $want into .tmp/pnpm, inside the repository (npm install --prefix .tmp/pnpm pnpm@$want): $why"
  fi
  npm install --prefix .tmp/pnpm --no-fund --no-audit --no-save "pnpm@$want" >/dev/null
  export PATH="$local_bin:$PATH"
  hash -r
  pnpm --version >/dev/null
}

# Installs what the tests run from Debian when it is missing, saying first what and why:
# redis-server (which brings redis-cli) and redis-sentinel (a package of its own on Debian; the
# Sentinel failover test starts three sentinels).
ensure_redis_server() {
  local packages=() why=()
  if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    packages+=(redis-server)
    why+=("redis-server and redis-cli are not on PATH: the tests run against a real Redis and Redis Cluster and start, slow and kill servers of their own")
  fi
  if ! command -v redis-sentinel >/dev/null 2>&1; then
    packages+=(redis-sentinel)
    why+=("redis-sentinel is not on PATH: the Sentinel failover test starts three sentinels")
  fi
  [ "${#packages[@]}" -gt 0 ] || return 0
  local sudo=''
  [ "$(id -u)" -eq 0 ] || sudo='sudo '
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "==> missing: ${packages[*]} ($(IFS=';'; echo "${why[*]}")). Install Redis 7 so that redis-server, redis-cli and redis-sentinel are on PATH, and run again." >&2
    exit 1
  fi
  echo "==> installing ${packages[*]} from Debian with ${sudo}apt-get (apt-get update, then apt-get install -y ${packages[*]}):"
  local reason
  for reason in "${why[@]}"; do echo "    $reason"; done
  ${sudo}apt-get update -qq
  DEBIAN_FRONTEND=noninteractive ${sudo}apt-get install -y -qq "${packages[@]}" >/dev/null
}

# Prints a TCP port that is free on 127.0.0.1 right now.
free_port() {
  free_ports 1
}

# Prints N distinct TCP ports that are free on 127.0.0.1 right now, one a line (all are held open
# together while they are chosen, so no two are the same).
free_ports() {
  node -e "
    const net = require('net');
    const n = Number(process.argv[1]);
    const servers = Array.from({ length: n }, () => net.createServer());
    Promise.all(servers.map((s) => new Promise((ok, fail) => s.once('error', fail).listen(0, '127.0.0.1', ok))))
      .then(() => { console.log(servers.map((s) => s.address().port).join('\\n')); servers.forEach((s) => s.close()); });
  " "$1"
}

# One EXIT trap for everything these helpers start (a Redis, a Cluster, or both), installed by
# each start_*; INT and TERM exit through it too, so Ctrl-C leaves no server behind.
trap_stop_redis_on_exit() {
  trap stop_all_redis EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

stop_all_redis() {
  stop_redis_cluster
  stop_redis
}

# True while a process runs. A zombie (a daemon that exited but that no one reaped, as under a
# container init that does not reap) has stopped running: it counts as gone.
pid_running() {
  local state
  kill -0 "$1" 2>/dev/null || return 1
  [ -r "/proc/$1/stat" ] || return 0
  state=$(sed 's/^.*) \(.\).*$/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
  [ "$state" != Z ] && [ "$state" != X ]
}

# Stops the process in a pid file (SIGTERM), waits up to 5 s for it to end, then kills it (SIGKILL).
stop_pidfile() {
  local pid
  [ -f "$1" ] || return 0
  pid=$(cat "$1" 2>/dev/null) || return 0
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do
    pid_running "$pid" || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}

# Starts redis-server on a free loopback port, exports REDIS_URL, and stops it when the shell exits.
start_redis() {
  local port dir
  port=$(free_port)
  echo "==> starting a throwaway Redis: redis-server $(redis_version) on 127.0.0.1:$port"
  dir=$(mktemp -d "${TMPDIR:-/tmp}/tokenbucket-redis.XXXXXX")
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
  REDIS_STARTED_DIR=$dir
  trap_stop_redis_on_exit
  for _ in $(seq 1 100); do
    [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && break
    sleep 0.1
  done
  [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] || { cat "$dir/redis.log"; echo "redis-server did not start" >&2; exit 1; }
  export REDIS_URL="redis://127.0.0.1:$port"
}

# The version of the redis-server on PATH, e.g. 7.0.15.
redis_version() {
  redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'
}

stop_redis() {
  [ -n "${REDIS_STARTED_DIR:-}" ] || return 0
  stop_pidfile "$REDIS_STARTED_DIR/redis.pid"
  rm -rf "$REDIS_STARTED_DIR"
  REDIS_STARTED_DIR=''
}

# Starts a Redis Cluster of three masters (no replicas) on free loopback ports, each node in its
# own temp dir with its own nodes.conf and no persistence, waits until every node reports
# cluster_state:ok, exports REDIS_CLUSTER_NODES=127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3, and stops
# the nodes when the shell exits (with any server start_redis started).
start_redis_cluster() {
  local ports dir i port bus nodes='' addrs=()
  mapfile -t ports < <(free_ports 6)
  [ "${#ports[@]}" -eq 6 ] || { echo "could not find free ports for the cluster" >&2; exit 1; }
  echo "==> starting a throwaway Redis Cluster: 3 masters, redis-server $(redis_version) on 127.0.0.1:${ports[0]},${ports[1]},${ports[2]}"
  dir=$(mktemp -d "${TMPDIR:-/tmp}/tokenbucket-cluster.XXXXXX")
  REDIS_CLUSTER_STARTED_DIR=$dir
  trap_stop_redis_on_exit
  for i in 0 1 2; do
    port=${ports[$i]}
    bus=${ports[$((i + 3))]}
    mkdir -p "$dir/$port"
    redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes --cluster-port "$bus" \
      --cluster-config-file "$dir/$port/nodes.conf" --cluster-node-timeout 5000 \
      --save '' --appendonly no --dir "$dir/$port" \
      --daemonize yes --pidfile "$dir/$port/redis.pid" --logfile "$dir/$port/redis.log"
    addrs+=("127.0.0.1:$port")
  done
  for addr in "${addrs[@]}"; do
    port=${addr##*:}
    for _ in $(seq 1 100); do
      [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && break
      sleep 0.1
    done
    [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] || {
      cat "$dir/$port/redis.log"; echo "cluster node $addr did not start" >&2; exit 1;
    }
  done
  redis-cli --cluster create "${addrs[@]}" --cluster-replicas 0 --cluster-yes >"$dir/create.log" 2>&1 || {
    cat "$dir/create.log"; echo "redis-cli --cluster create failed" >&2; exit 1;
  }
  for addr in "${addrs[@]}"; do
    port=${addr##*:}
    for _ in $(seq 1 100); do
      redis-cli -p "$port" cluster info 2>/dev/null | grep -q '^cluster_state:ok' && break
      sleep 0.1
    done
    redis-cli -p "$port" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || {
      cat "$dir/create.log"; redis-cli -p "$port" cluster info; echo "cluster node $addr is not ok" >&2; exit 1;
    }
  done
  nodes=$(IFS=,; echo "${addrs[*]}")
  export REDIS_CLUSTER_NODES=$nodes
}

stop_redis_cluster() {
  [ -n "${REDIS_CLUSTER_STARTED_DIR:-}" ] || return 0
  local pidfile
  for pidfile in "$REDIS_CLUSTER_STARTED_DIR"/*/redis.pid; do
    stop_pidfile "$pidfile"
  done
  rm -rf "$REDIS_CLUSTER_STARTED_DIR"
  REDIS_CLUSTER_STARTED_DIR=''
}
