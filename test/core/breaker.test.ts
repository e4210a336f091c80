// The circuit breaker on a controlled clock: threshold, cool-down, one probe, one event per change.
import { type BreakerTransition, CircuitBreaker } from '../../packages/core/src/store/breaker';

function setup(options = { failureThreshold: 3, cooldownMs: 1000 }) {
  let now = 0;
  const breaker = new CircuitBreaker(options, () => now);
  const events: BreakerTransition[] = [];
  breaker.subscribe((e) => events.push(e));
  return {
    breaker,
    events,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

test('opens after failureThreshold consecutive failures, once', () => {
  const { breaker, events } = setup();
  breaker.failure(new Error('1'));
  breaker.failure(new Error('2'));
  expect(breaker.allow()).toBe(true);
  breaker.failure(new Error('3'));
  expect(breaker.allow()).toBe(false);
  breaker.failure(new Error('4'));
  expect(events).toEqual([{ status: 'down', error: new Error('3') }]);
});

test('a success resets the count of failures', () => {
  const { breaker, events } = setup();
  breaker.failure(1);
  breaker.failure(2);
  breaker.success();
  breaker.failure(3);
  breaker.failure(4);
  expect(breaker.allow()).toBe(true);
  expect(events).toEqual([]);
});

test('after the cool-down one probe goes through; its failure reopens, its success closes', () => {
  const { breaker, events, advance } = setup();
  for (let i = 0; i < 3; i++) breaker.failure(i);
  advance(999);
  expect(breaker.allow()).toBe(false);
  advance(1);
  expect(breaker.allow()).toBe(true); // the probe
  expect(breaker.allow()).toBe(false); // only one
  breaker.failure('probe failed');
  expect(breaker.allow()).toBe(false);
  advance(1000);
  expect(breaker.allow()).toBe(true);
  breaker.success();
  expect(breaker.allow()).toBe(true);
  expect(breaker.closed).toBe(true);
  expect(events.map((e) => e.status)).toEqual(['down', 'up']);
});

test('a listener that throws does not break the breaker', () => {
  const { breaker } = setup({ failureThreshold: 1, cooldownMs: 0 });
  breaker.subscribe(() => {
    throw new Error('listener broke');
  });
  const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
  expect(() => breaker.failure('x')).not.toThrow();
  expect(warn).toHaveBeenCalledWith(expect.stringMatching(/listener broke/), { type: 'TokenBucketWarning', code: 'TB_WARN_LISTENER_FAILED' });
  warn.mockRestore();
});

test('bad options name the option', () => {
  expect(() => new CircuitBreaker({ failureThreshold: 0 })).toThrow(/`breaker.failureThreshold` must be an integer >= 1; got 0/);
  expect(() => new CircuitBreaker({ cooldownMs: -1 })).toThrow(/`breaker.cooldownMs`.*got -1/);
});

test('failures are counted in time: those within the window are one failure', () => {
  let now = 0;
  const breaker = new CircuitBreaker({ failureThreshold: 2, cooldownMs: 1000 }, () => now, 200);
  const events: BreakerTransition[] = [];
  breaker.subscribe((e) => events.push(e));
  for (let i = 0; i < 20; i++) breaker.failure(new Error('stall')); // one stall: every call in flight
  now += 150;
  breaker.failure(new Error('same stall'));
  expect(breaker.allow()).toBe(true);
  expect(events).toEqual([]);
  now += 100; // 250 ms after the first: a second failure
  breaker.failure(new Error('again'));
  expect(breaker.allow()).toBe(false);
  expect(events).toEqual([{ status: 'down', error: new Error('again') }]);
});

test('a refused write opens at once; a success that only read neither resets nor closes; one that wrote does', () => {
  let now = 0;
  const breaker = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 1000 }, () => now, 200);
  const events: string[] = [];
  breaker.subscribe((e) => events.push(e.status));
  breaker.success(false);
  breaker.failure(new Error('OOM'), true);
  expect(events).toEqual(['down']);
  now += 1000;
  expect(breaker.allow()).toBe(true); // the probe
  breaker.success(false); // a denial: proves nothing about writes
  expect(breaker.allow()).toBe(false);
  expect(events).toEqual(['down']);
  now += 1000;
  expect(breaker.allow()).toBe(true);
  breaker.success(true);
  expect(breaker.closed).toBe(true);
  expect(events).toEqual(['down', 'up']);
  // Closed, after a passing fault, a read is a success like any other: it resets the count.
  breaker.failure(new Error('timeout'));
  now += 300;
  breaker.failure(new Error('timeout'));
  now += 300;
  breaker.success(false);
  breaker.failure(new Error('timeout'));
  expect(events).toEqual(['down', 'up']);
});
