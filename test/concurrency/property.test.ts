// The concurrency property, on the standalone Redis and on the Cluster, through ioredis and through
// node-redis: several processes, each with its own client, hammer ONE caller key with many
// concurrent takes while the bucket refills. The total admitted never exceeds capacity +
// refillPerSecond * elapsed (elapsed on Redis's clock) and is not far below it either: no
// over-admission, no under-admission.
import { existsSync } from 'node:fs';
import { clusterNodes, requireCluster } from '../support/cluster';
import { randomPrefix, redisUrl, requireRedis } from '../support/redis';
import { CORE_DIST, runHammer, type HammerResult, type HammerTarget } from './hammer.cjs';
import { report } from '../support/report';

const policy = { name: 'property', capacity: 50, refillPerSecond: 100 };
const EPSILON = 1e-6; // float slack on the bound; admitted is a whole number

beforeAll(() => {
  if (!existsSync(CORE_DIST)) throw new Error(`${CORE_DIST} is missing: the workers run the built core; run \`pnpm build\` first.`);
});

/** Each target, the check for the server it needs, and how the workers reach it. */
const servers: [string, () => void, () => HammerTarget][] = [
  ['standalone Redis', requireRedis, () => ({ url: redisUrl() })],
  ['Redis Cluster', requireCluster, () => ({ clusterNodes: clusterNodes() })],
];
/** The client libraries the workers use: ioredis 5, and node-redis 5 (its aliased install). */
const libraries: [string, HammerTarget['library']][] = [
  ['ioredis 5', 'ioredis'],
  ['node-redis 5', 'redis5'],
];
const targets = libraries.flatMap(([client, library]) =>
  servers.map(([server, requireServer, target]) => [`${server} through ${client}`, requireServer, () => ({ ...target(), library })] as const),
);

describe.each(targets)('4 processes x 50 takes in flight on one key, %s', (label, requireServer, target) => {
  requireServer();
  let result: HammerResult;

  beforeAll(async () => {
    result = await runHammer({
      design: 'atomic',
      target: target(),
      prefix: randomPrefix('property'),
      key: `hot-caller-${label}`,
      policy,
      processes: 4,
      inFlight: 50,
      durationMs: 2500,
      pauseMs: [50, 150], // a few thousand takes in all, always far more than the refill
      maxTakesPerProcess: 3000,
    });
    const { takes, admitted, bound, elapsedS } = result;
    report(
      `[concurrency] ${label}: ${takes} takes, admitted ${admitted} of bound ${bound.toFixed(2)} ` +
        `(${((100 * admitted) / bound).toFixed(1)}%) over ${elapsedS.toFixed(3)} s of Redis time\n`,
    );
  }, 25_000);

  test('every take answered, and the run was long enough for the refill to matter', () => {
    expect(result.firstError).toBeUndefined();
    expect(result.errors).toBe(0);
    expect(result.takes).toBe(result.admitted + result.denied);
    expect(result.takes).toBeGreaterThan(1000);
    expect(result.denied).toBeGreaterThan(result.admitted); // demand far above supply
    expect(policy.refillPerSecond * result.elapsedS).toBeGreaterThan(2 * policy.capacity);
  });

  test('admitted <= capacity + refillPerSecond * elapsed (no over-admission)', () => {
    expect(result.admitted).toBeLessThanOrEqual(result.bound + EPSILON);
  });

  test('admitted >= 95% of that bound (no under-admission)', () => {
    expect(result.admitted).toBeGreaterThanOrEqual(0.95 * result.bound);
  });
});
