// The Lua script behind RedisStore's concurrency slots: acquire, renew, release and count, each atomic.
import { createHash } from 'node:crypto';

/**
 * One caller's slots under one concurrency policy are a sorted set (KEYS[1]): members are slot
 * ids, scores the end of each slot's lease in milliseconds of Redis time (TIME, never the app's
 * clock). Every operation first drops the members whose lease has ended, so a slot held by an
 * instance that died frees itself `lease` after its last renewal, and no earlier.
 *
 * ARGV: the operation (`acquire`, `renew`, `release`, `count`), the slot id, the policy's max and
 * its lease in ms. Reply: a verdict (acquire: 1 if a slot was free and is now held, 0 if none was;
 * renew: 1 if the slot was still held and its lease now ends `lease` from now, 0 if not; release
 * and count: 1), then the number of slots held after it.
 *
 * The key expires when its longest lease ends (PEXPIRE, only ever extended), so a caller whose
 * every holder died costs no memory after the lease.
 */
export const SLOT_SCRIPT = `
local key = KEYS[1]
local op = ARGV[1]
local id = ARGV[2]
local max = tonumber(ARGV[3]) -- most slots held at once
local lease = tonumber(ARGV[4]) -- ms a slot is held without a renewal
local clock = redis.call('TIME')
local now = clock[1] * 1000 + math.floor(clock[2] / 1000) -- ms of Redis time
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)

-- Keeps the key until its longest lease ends.
local function keep()
  if redis.call('PTTL', key) < lease then redis.call('PEXPIRE', key, lease) end
end

if op == 'acquire' then
  local held = redis.call('ZCARD', key)
  if held >= max then return {0, held} end
  redis.call('ZADD', key, now + lease, id)
  keep()
  return {1, held + 1}
elseif op == 'renew' then
  if not redis.call('ZSCORE', key, id) then return {0, redis.call('ZCARD', key)} end
  redis.call('ZADD', key, now + lease, id)
  keep()
  return {1, redis.call('ZCARD', key)}
elseif op == 'release' then
  redis.call('ZREM', key, id)
end
return {1, redis.call('ZCARD', key)}
`;

export const SLOT_SCRIPT_SHA1 = createHash('sha1').update(SLOT_SCRIPT).digest('hex');

/** The client command the slot script is defined under (named after its SHA-1, as the take script's). */
export const SLOT_COMMAND = `tokenbucket_slots_${SLOT_SCRIPT_SHA1.slice(0, 12)}`;

/** The operations of the slot script. */
export type SlotOp = 'acquire' | 'renew' | 'release' | 'count';
