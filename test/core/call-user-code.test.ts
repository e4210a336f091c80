// The one way core calls user code it does not wait for (callbacks, store listeners, metrics
// subscribers): a throw or a rejection becomes a coded warning, never an exception of ours.
import { callUserCode } from '../../packages/core/src/errors';

let warn: jest.SpyInstance;
beforeEach(() => {
  warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
});
afterEach(() => warn.mockRestore());
const tick = () => new Promise((resolve) => setImmediate(resolve));

test('a throw becomes one warning with the code, naming the function and its error', () => {
  expect(() =>
    callUserCode('TB_WARN_HOOK_FAILED', 'onDecision', () => {
      throw new Error('logger broke');
    }),
  ).not.toThrow();
  expect(warn.mock.calls).toEqual([['tokenbucket: onDecision threw: logger broke', { type: 'TokenBucketWarning', code: 'TB_WARN_HOOK_FAILED' }]]);
});

test('a rejection becomes the same warning, once it rejects; the call is not awaited', async () => {
  let reject: (err: unknown) => void = () => {};
  callUserCode('TB_WARN_HOOK_FAILED', 'onStoreError', () => new Promise((_resolve, r) => (reject = r)));
  expect(warn).not.toHaveBeenCalled();
  reject('a string, not an Error');
  await tick();
  expect(warn.mock.calls).toEqual([['tokenbucket: onStoreError threw: a string, not an Error', { type: 'TokenBucketWarning', code: 'TB_WARN_HOOK_FAILED' }]]);
});

test('code that returns or resolves warns nothing', async () => {
  callUserCode('TB_WARN_LISTENER_FAILED', 'a listener', () => 42);
  callUserCode('TB_WARN_LISTENER_FAILED', 'a listener', async () => 42);
  await tick();
  expect(warn).not.toHaveBeenCalled();
});

test('given `once`, a function that keeps failing warns the first time only', async () => {
  const once = { warned: false };
  for (let i = 0; i < 3; i++) {
    callUserCode(
      'TB_WARN_METRICS_FAILED',
      'a metrics subscriber',
      () => {
        throw new Error(`failure ${i}`);
      },
      once,
    );
  }
  callUserCode('TB_WARN_METRICS_FAILED', 'a metrics subscriber', () => Promise.reject(new Error('later')), once);
  await tick();
  expect(warn.mock.calls.map((call) => call[0])).toEqual(['tokenbucket: a metrics subscriber threw: failure 0']);
});
