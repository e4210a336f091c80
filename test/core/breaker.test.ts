// The circuit breaker on a controlled clock: threshold, cool-down, one probe, one event per change.
import type { StoreStatusEvent } from '@tokenbucket/core';
import { CircuitBreaker } from '../../packages/core/src/store/breaker';

function setup(options = { failureThreshold: 3, cooldownMs: 1000 }) {
  let now = 0;
  const breaker = new CircuitBreaker(options, () => now);
  const events: StoreStatusEvent[] = [];
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
  expect(warn).toHaveBeenCalledWith(expect.stringMatching(/listener broke/), { type: 'TokenBucketWarning', code: 'TB_LISTENER_FAILED' });
  warn.mockRestore();
});

test('bad options name the option', () => {
  expect(() => new CircuitBreaker({ failureThreshold: 0 })).toThrow(/`breaker.failureThreshold` must be an integer >= 1; got 0/);
  expect(() => new CircuitBreaker({ cooldownMs: -1 })).toThrow(/`breaker.cooldownMs`.*got -1/);
});
