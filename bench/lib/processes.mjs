// The bench's child processes: workers driven over IPC (the load generator, the raw decision
// loops), and the benchmarked apps, which get no IPC channel: they only print their port.
import { fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const BENCH = new URL('../', import.meta.url);

/**
 * A child's environment: the bench's, without the variables that choose a Redis target, plus
 * `env` (its target and settings), so that a child never picks up another target's.
 */
function childEnv(env) {
  const base = { ...process.env };
  for (const name of ['BENCH_REDIS_URL', 'BENCH_CLUSTER_NODES', 'BENCH_PIPELINING', 'BENCH_LEASES']) delete base[name];
  return { ...base, ...env };
}

/**
 * A forked worker (a file under bench/) answering `{ id, ...message }` with `{ id, result }` or
 * `{ id, error }`; see `serve` for its side.
 */
export function worker(file, env = {}) {
  const proc = fork(new URL(file, BENCH), [], { env: childEnv(env), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let seq = 0;
  const pending = new Map();
  proc.on('message', (msg) => {
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    msg.error ? p.reject(new Error(msg.error)) : p.resolve(msg.result);
  });
  proc.once('exit', (code) => {
    for (const p of pending.values()) p.reject(new Error(`${file} exited with ${code}`));
    pending.clear();
  });
  return {
    pid: proc.pid,
    call(msg, timeoutMs = 120_000) {
      const id = ++seq;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${file}: no answer to ${msg.type} in ${timeoutMs} ms`)), timeoutMs);
        pending.set(id, {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        proc.send({ ...msg, id });
      });
    },
    stop: () => stopProcess(proc, () => proc.disconnect()),
  };
}

/** The worker's side: answers each message with `handle(message)`'s result; exits with its parent. */
export function serve(handle) {
  process.on('message', async (msg) => {
    try {
      process.send({ id: msg.id, result: await handle(msg) });
    } catch (err) {
      process.send({ id: msg.id, error: String(err?.stack ?? err) });
    }
  });
  process.on('disconnect', () => process.exit(0));
}

/**
 * Starts one app, a file (path or URL) run by `node` with `env`, and waits for its
 * `listening <port>` line. Its stdout also carries `store-error` / `store-down` lines from our
 * limiter's hooks, counted in `failures`.
 */
export function startApp(file, env = {}, timeoutMs = 30_000) {
  const path = file instanceof URL ? file.pathname : file;
  const name = path.split('/').pop();
  const proc = spawn(process.execPath, [path], {
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const app = { name, pid: proc.pid, port: 0, failures: 0, exited: false, stop: () => stopProcess(proc, () => proc.kill('SIGTERM')) };
  proc.once('exit', () => {
    app.exited = true;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${name} did not print "listening <port>" in ${timeoutMs} ms`));
    }, timeoutMs);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}`));
    });
    let buffered = '';
    proc.stdout.setEncoding('utf8').on('data', (chunk) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop();
      for (const line of lines) {
        const listening = /^listening (\d+)$/.exec(line);
        if (listening) {
          app.port = Number(listening[1]);
          clearTimeout(timer);
          resolve(app);
        } else if (line === 'store-error' || line === 'store-down') {
          app.failures++;
        } else if (line) {
          process.stderr.write(`[${name}] ${line}\n`);
        }
      }
    });
  });
}

/** Asks a process to end, waits for it, and kills it after 5 s. */
async function stopProcess(proc, ask) {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  try {
    ask();
  } catch {
    // Already gone.
  }
  const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/**
 * CPU seconds (user + system, every thread) a process has used so far, from /proc/<pid>/stat,
 * whose times are in USER_HZ ticks (100 a second on Linux); undefined where there is no /proc.
 */
export function processCpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}
