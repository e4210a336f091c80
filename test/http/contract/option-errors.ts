// The HTTP contract, bad options: the app fails when it is built, and the error names the option.
import type { SuiteApps } from '../suite-apps';

export function optionErrorCases(suite: SuiteApps): void {
  const { single } = suite;

  test('bad options fail when the app is built, naming the option', async () => {
    await expect(single({ capacity: 0, refillPerSecond: 1 })).rejects.toThrow(/`capacity` must be an integer >= 1.*got 0/);
    await expect(single({ capacity: 1, refillPerSecond: 1, missingKey: 'ignore' as never })).rejects.toThrow(
      /`missingKey` must be one of 'ip', 'reject', 'skip'; got "ignore"/,
    );
    await expect(single({ capacity: 1, refillPerSecond: 1, storeFailure: 'retry' as never })).rejects.toThrow(/`storeFailure`/);
    await expect(single({ capacity: 1, refillPerSecond: 1, key: 'x-api-key' as never })).rejects.toThrow(/`key` must be a function/);
    await expect(single({ capacity: 1, refillPerSecond: 1, ipv6Subnet: 16 })).rejects.toThrow(
      /`ipv6Subnet` must be an integer prefix length from 32 to 128.*got 16/,
    );
  });

  test('bad outcome and lock-out options fail when the app is built, naming the option', async () => {
    await expect(single({ capacity: 1, refillPerSecond: 1, skipFailedRequests: 'yes' as never })).rejects.toThrow(
      /`skipFailedRequests` must be true or false; got "yes"/,
    );
    await expect(single({ capacity: 1, refillPerSecond: 1, skipSuccessfulRequests: 1 as never })).rejects.toThrow(
      /`skipSuccessfulRequests` must be true or false/,
    );
    await expect(single({ capacity: 1, refillPerSecond: 1, skipResponse: 404 as never })).rejects.toThrow(/`skipResponse` must be a function; got 404/);
    await expect(
      single({ capacity: 1, refillPerSecond: 1, lockout: { after: 3, windowSeconds: 60, durationSeconds: 60, status: 418 as never } }),
    ).rejects.toThrow(/`lockout.status` must be 429 or 403; got 418/);
    await expect(single({ capacity: 1, refillPerSecond: 1, lockout: { after: 3, windowSeconds: 60, durationSecs: 60 } as never })).rejects.toThrow(
      /unknown option `lockout.durationSecs`: did you mean `lockout.durationSeconds`\?/,
    );
  });
}
