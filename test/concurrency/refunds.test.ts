// Exactness with refunds in play, on the standalone Redis and on the Cluster, through ioredis and
// node-redis: several processes hammer ONE caller key with takes while a share of the admitted
// takes is given back (the store's adjust) after a random pause, interleaved with everyone's
// takes. What stays admitted (takes allowed minus refunds) never exceeds capacity +
// refillPerSecond * elapsed (elapsed on Redis's clock), and is not far below it: a refund gives
// back exactly its own token, never more (never above capacity) and never what others took.
import { existsSync } from 'node:fs';
import { clusterNodes, requireCluster } from '../support/cluster';
import { randomPrefix, redisUrl, requireRedis } from '../support/redis';
import { CORE_DIST, runHammer, type HammerResult, type HammerTarget } from './hammer.cjs';
import { report } from '../support/report';

const policy = { name: 'refunds', capacity: 50, refillPerSecond: 100 };
const EPSILON = 1e-6; // float slack on the bound; admitted and refunded are whole numbers

beforeAll(() => {
  if (!existsSync(CORE_DIST)) throw new Error(`${CORE_DIST} is missing: the workers run the built core; run \`pnpm build\` first.`);
});

const servers: [string, () => void, () => HammerTarget][] = [
  ['standalone Redis', requireRedis, () => ({ url: redisUrl() })],
  ['Redis Cluster', requireCluster, () => ({ clusterNodes: clusterNodes() })],
];
const libraries: [string, HammerTarget['library']][] = [
  ['ioredis 5', 'ioredis'],
  ['node-redis 5', 'redis5'],
];
const targets = libraries.flatMap(([client, library]) =>
  servers.map(([server, requireServer, target]) => [`${server} through ${client}`, requireServer, () => ({ ...target(), library })] as const),
);

describe.each(targets)('4 processes x 50 takes in flight on one key, a third of admissions refunded, %s', (label, requireServer, target) => {
  requireServer();
  let result: HammerResult;

  beforeAll(async () => {
    result = await runHammer({
      design: 'atomic',
      target: target(),
      prefix: randomPrefix('refunds'),
      key: `hot-caller-${label}`,
      policy,
      processes: 4,
      inFlight: 50,
      durationMs: 2500,
      pauseMs: [50, 150],
      maxTakesPerProcess: 3000,
      refundShare: 1 / 3,
      refundDelayMs: [0, 40],
    });
    const { takes, admitted, refunded, bound, elapsedS } = result;
    report(
      `[refunds] ${label}: ${takes} takes, ${admitted} admitted, ${refunded} refunded: ${admitted - refunded} kept of bound ` +
        `${bound.toFixed(2)} (${((100 * (admitted - refunded)) / bound).toFixed(1)}%) over ${elapsedS.toFixed(3)} s of Redis time\n`,
    );
  }, 25_000);

  test('every take and every refund answered, and refunds were many', () => {
    expect(result.firstError).toBeUndefined();
    expect(result.errors).toBe(0);
    expect(result.takes).toBe(result.admitted + result.denied);
    expect(result.denied).toBeGreaterThan(result.admitted); // demand far above supply
    expect(result.refunded).toBeGreaterThan(0.2 * result.admitted);
    expect(policy.refillPerSecond * result.elapsedS).toBeGreaterThan(2 * policy.capacity);
  });

  test('admitted - refunded <= capacity + refillPerSecond * elapsed (no over-admission)', () => {
    expect(result.admitted - result.refunded).toBeLessThanOrEqual(result.bound + EPSILON);
  });

  // Not all the way to the bound: a token given back after the last take admits no one, and the
  // run waits for its refunds (up to 40 ms of refill) before it reads Redis's clock.
  test('admitted - refunded >= 90% of that bound (a refund gives its token back to be taken again)', () => {
    expect(result.admitted - result.refunded).toBeGreaterThanOrEqual(0.9 * result.bound);
  });
});
