// Store errors carry Redis's own code: ioredis's ReplyError and node-redis's ErrorReply alike.
import { errorCode, redisErrorCode } from '../../packages/core/src/diagnostics';
import { WarnOnChange } from '../../packages/core/src/errors';

class ReplyError extends Error {
  override name = 'ReplyError';
}
class ErrorReply extends Error {}

test.each([
  ['OOM command not allowed when used memory > maxmemory.', 'OOM'],
  ['NOPERM this user has no permissions to run the evalsha command', 'NOPERM'],
  ["READONLY You can't write against a read only replica.", 'READONLY'],
  ['WRONGTYPE Operation against a key holding the wrong kind of value', 'WRONGTYPE'],
  ['ERR Error running script (call to f_1): @user_script:1: -OOM command not allowed', 'OOM'],
  ["ERR The user executing the script can't run this command or subcommand script: 1, on @user_script:1.", 'NOPERM'],
  ['ERR unknown command', 'ERR'],
])('%s -> %s', (message, code) => {
  expect(redisErrorCode(new ReplyError(message))).toBe(code);
  expect(errorCode(new ErrorReply(message))).toBe(code);
});

test('errors that are not Redis replies keep their code or name', () => {
  expect(redisErrorCode(new Error('OOM'))).toBeUndefined();
  expect(redisErrorCode('OOM')).toBeUndefined();
  expect(errorCode(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe('ECONNREFUSED');
  expect(errorCode(new TypeError('x'))).toBe('TypeError');
  expect(errorCode(42)).toBe('Error');
});

test('WarnOnChange says a cause once, and again only when it changes', () => {
  const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
  try {
    const w = new WarnOnChange();
    expect(w.emit('a', 'TB_WARN_REDIS_OOM', 'one')).toBe(true);
    expect(w.emit('a', 'TB_WARN_REDIS_OOM', 'one')).toBe(false);
    expect(w.emit('b', 'TB_WARN_REDIS_READONLY', 'two')).toBe(true);
    expect(warn.mock.calls).toEqual([
      ['one', { type: 'TokenBucketWarning', code: 'TB_WARN_REDIS_OOM' }],
      ['two', { type: 'TokenBucketWarning', code: 'TB_WARN_REDIS_READONLY' }],
    ]);
  } finally {
    warn.mockRestore();
  }
});

test('store_up: a node that has only failed reads 0 until a call succeeds; a status event decides after that', async () => {
  const { StoreStates } = await import('../../packages/core/src/exporter');
  const states = new StoreStates();
  const read = () => {
    const seen: [string, number][] = [];
    states.report((up, store, node) => seen.push([`${store}/${node}`, up]));
    return seen;
  };
  states.failed('s', undefined);
  expect(read()).toEqual([['s/default', 0]]);
  states.called('s', undefined);
  expect(read()).toEqual([['s/default', 1]]);
  states.failed('s', undefined); // seen up: one failure does not make it down
  expect(read()).toEqual([['s/default', 1]]);
  states.status('s', undefined, false);
  states.called('s', undefined); // a circuit opened: only its closing brings it back
  expect(read()).toEqual([['s/default', 0]]);
});
