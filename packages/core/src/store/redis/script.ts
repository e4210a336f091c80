// The Lua script behind RedisStore's takes and adjusts: refill, test and move every bucket in one atomic step.
import { createHash } from 'node:crypto';

/**
 * Atomic multi-policy token-bucket operations, several in one call, in the GCRA form: a bucket is
 * its "theoretical arrival time" (TAT), in Redis time. Each policy counts time in its own unit:
 * microseconds, or nanoseconds above 1000 tokens a second (so that I, below, rounded up to a
 * whole unit, keeps the rate within 0.1%). With I the units one token takes to refill and tau =
 * capacity x I, a bucket whose TAT is `ahead` units past now holds (tau - ahead) / I tokens; a
 * missing key, or a TAT in the past, is a full bucket. Taking `cost` tokens moves the TAT forward
 * by inc = ceil(cost x I), and is possible only if ahead + inc <= tau. The script works on
 * `ahead`, integers below 2^53, so it is exact. A TAT is stored as whole microseconds of Redis
 * time, followed for a nanosecond policy by '.' and three digits (which a reader in microseconds
 * rounds up).
 *
 * Operations run one after the other; a later one in the same call sees an earlier one's writes.
 * Time is Redis's own (TIME), never the app's. A TAT more than tau ahead (written by a server
 * whose clock was ahead of this one's, before a failover) is read as tau ahead, an empty bucket,
 * and written back so, so the bucket refills from now on and the wait it reports stays true.
 *
 * - A take (code 0) is all-or-nothing across its policies: allowed only if every bucket can take
 *   its inc; then each TAT moves forward and is written with PX = ms until the bucket is full
 *   again, so idle buckets expire. A denied take writes nothing (but a capped TAT).
 * - A take under a lockout rule (code 1) first reads the caller's lock, `<prefix>"lock":<rule>:
 *   {<caller>}`, whose value is the lock's end in microseconds of Redis time: while it holds, the
 *   take is denied and writes nothing. Otherwise it is a take; a denial also counts: the denials
 *   key (a list of the latest `after` denial times, newest first, expiring `window` after the
 *   last) gets now, and when it holds `after` denials within `window` the lock is set to now +
 *   `duration` (PX the same) and the list deleted. Lock times left are capped at `duration`.
 * - An adjust (code 2) always applies: with `move` the signed change of the TAT, a refund
 *   (move < 0) sets TAT' = max(now, TAT + move), so a bucket never goes above capacity and what
 *   others took meanwhile stays taken; a penalty (move > 0) sets TAT' = min(now + tau, max(now,
 *   TAT) + move), never below empty. A TAT of now (full) deletes the key; otherwise PX as a take.
 *
 * Keys: KEYS, then the `extra` keys among the arguments; per operation its bucket keys in policy
 * order, then for a lockout take its lock key and its denials key. On a Cluster, one call carries
 * the operations of callers whose slots one master serves: it declares only the first
 * operation's first key (the client routes the call by it) and passes the others as arguments,
 * and an operation whose keys this node does not serve (its slot moved) is skipped and answered
 * "not here", for the client to send again on its own. One caller's keys share one `{caller}`
 * hash tag, so one slot.
 *
 * ARGV: the number of extra keys, the extra keys, the number of operations; then per operation
 * its code (0 take, 1 take under a lockout rule, 2 adjust) and its number of policies; for code
 * 1, the rule's `after` (denials), `window` and `duration` (microseconds); then per policy its
 * tau and its move (a take's inc, 0 only reads; an adjust's signed move), in its unit, and the
 * unit (1: microseconds, 1000: nanoseconds).
 * Reply, per operation: a verdict, 1 if allowed (a take debited; an adjust, always), 0 if denied,
 * -1 if not here, -2 if one of its keys holds another type (WRONGTYPE: that operation alone failed
 * and wrote nothing, the others of the call are decided); then each bucket's `ahead` in its unit
 * (before a take, after an adjust), in key order (when not here, 0s; on WRONGTYPE, the 1-based index of the
 * key among the operation's keys, then 0s); then, for code 1, the microseconds the caller's lock
 * has left (0 when not locked). An error on a key that is neither (OOM, NOPERM...) fails the call.
 */
export const TAKE_SCRIPT = `
local clock = redis.call('TIME')
local now = clock[1] * 1000000 + clock[2] -- microseconds of Redis time
local keys = {} -- KEYS, then the extra keys
for i = 1, #KEYS do keys[i] = KEYS[i] end
local extra_count = tonumber(ARGV[1])
for i = 1, extra_count do keys[#KEYS + i] = ARGV[1 + i] end
local op_count = tonumber(ARGV[2 + extra_count])
local reply = {}
local keys_done = 0 -- keys used by the operations before this one
local arg = 3 + extra_count -- ARGV index of this operation's code

-- Whether an error is a cluster node's for a key it does not serve: the operation belongs elsewhere.
local function elsewhere(err)
  return string.find(err, 'non local key', 1, true) ~= nil or string.find(err, '^MOVED ') ~= nil
    or string.find(err, '^ASK ') ~= nil or string.find(err, '^TRYAGAIN') ~= nil
    or string.find(err, '^CLUSTERDOWN') ~= nil
end

-- What an error on one of an operation's keys means: 'elsewhere' (a cluster node's for a key it
-- does not serve), 'failed' (the key holds another type: that operation alone fails), or nil (it
-- concerns the whole call, which fails with it).
local function key_error(err)
  if elsewhere(err) then return 'elsewhere' end
  if string.find(err, '^WRONGTYPE') ~= nil then return 'failed' end
  return nil
end

-- A bucket's TAT as how far it is past now, in the policy's unit (1: microseconds; 1000:
-- nanoseconds): 0 for a missing key or a TAT in the past. A TAT is stored as whole microseconds of
-- Redis time, followed for a nanosecond policy by '.' and three digits.
local function ahead_of(stored, scale)
  if not stored then return 0 end
  local whole, fraction = string.match(stored, '^(%d+)%.(%d%d%d)$')
  if whole == nil then whole, fraction = stored, '000' end
  whole = tonumber(whole)
  if whole == nil then return 0 end
  local ahead
  if scale == 1 then
    ahead = whole - now
    if fraction ~= '000' then ahead = ahead + 1 end -- a nanosecond TAT read in microseconds: rounded up
  else
    ahead = (whole - now) * scale + tonumber(fraction)
  end
  if ahead < 0 then return 0 end
  return ahead
end

-- Writes a TAT 'ahead' units past now, or deletes the key when it is now (a full bucket is no bucket).
local function write(key, ahead, scale)
  if ahead <= 0 then
    redis.call('DEL', key)
    return
  end
  local fraction = ahead % scale
  local whole = now + (ahead - fraction) / scale
  local value = string.format('%d', whole)
  if fraction > 0 then value = value .. string.format('.%03d', fraction) end
  redis.call('SET', key, value, 'PX', math.ceil(ahead / (1000 * scale)))
end

for op = 1, op_count do
  local code = tonumber(ARGV[arg])
  local policy_count = tonumber(ARGV[arg + 1])
  local first = arg + 2 -- ARGV index of the first policy's tau
  local after, window, duration
  if code == 1 then
    after = tonumber(ARGV[arg + 2])
    window = tonumber(ARGV[arg + 3])
    duration = tonumber(ARGV[arg + 4])
    first = arg + 5
  end
  local lock_key = keys[keys_done + policy_count + 1]
  local denials_key = keys[keys_done + policy_count + 2]
  local here = true
  local failed = 0 -- the 1-based index among this operation's keys of one that holds another type
  local locked = 0 -- microseconds the caller's lock has left
  if code == 1 then
    local stored = redis.pcall('GET', lock_key)
    if type(stored) == 'table' and stored.err then
      local kind = key_error(stored.err)
      if kind == nil then return stored end
      if kind == 'elsewhere' then here = false else failed = policy_count + 1 end
    else
      local lock_end = tonumber(stored)
      if lock_end ~= nil and lock_end > now then locked = math.min(lock_end - now, duration) end
    end
  end

  local aheads = {} -- each bucket's TAT past now (0: full)
  local moves = {}
  local taus = {}
  local scales = {}
  local capped = {} -- TATs cut back to tau ahead: written even when the take is denied
  local allowed = locked == 0
  for i = 1, policy_count do
    if not here or failed > 0 then break end
    local tau = tonumber(ARGV[first + 3 * i - 3]) -- capacity x I: how far ahead a TAT may go
    local move = tonumber(ARGV[first + 3 * i - 2]) -- a take's inc, an adjust's signed move
    local scale = tonumber(ARGV[first + 3 * i - 1]) -- the unit of both: 1 us, or 1/1000 us
    local stored = redis.pcall('GET', keys[keys_done + i])
    if type(stored) == 'table' and stored.err then
      local kind = key_error(stored.err)
      if kind == nil then return stored end
      if kind == 'elsewhere' then here = false else failed = i end
      break
    end
    local ahead = ahead_of(stored, scale)
    if ahead > tau then
      ahead = tau
      capped[i] = true
    end
    if code ~= 2 and ahead + move > tau then allowed = false end
    aheads[i] = ahead
    moves[i] = move
    taus[i] = tau
    scales[i] = scale
  end

  -- A denial under a lockout rule counts, and may lock: decided before anything is written, so
  -- that a denials key holding another type fails the operation with nothing written.
  local counted = false
  if here and failed == 0 and code == 1 and not allowed and locked == 0 then
    local pushed = redis.pcall('LPUSH', denials_key, string.format('%d', now))
    if type(pushed) == 'table' and pushed.err then
      if key_error(pushed.err) ~= 'failed' then return pushed end
      failed = policy_count + 2
    else
      counted = true
    end
  end

  if not here or failed > 0 then
    reply[#reply + 1] = here and -2 or -1
    reply[#reply + 1] = failed
    for i = 2, policy_count do reply[#reply + 1] = 0 end
  elseif code == 2 then
    reply[#reply + 1] = 1
    for i = 1, policy_count do
      local ahead = aheads[i]
      local new_ahead
      if moves[i] < 0 then new_ahead = math.max(0, ahead + moves[i]) else new_ahead = math.min(taus[i], ahead + moves[i]) end
      if new_ahead ~= ahead or capped[i] then write(keys[keys_done + i], new_ahead, scales[i]) end
      reply[#reply + 1] = new_ahead
    end
  else
    reply[#reply + 1] = allowed and 1 or 0
    for i = 1, policy_count do
      local key = keys[keys_done + i]
      if allowed and moves[i] > 0 then
        write(key, aheads[i] + moves[i], scales[i])
      elseif capped[i] then
        write(key, aheads[i], scales[i])
      end
      reply[#reply + 1] = aheads[i]
    end
    if counted then
      -- Keep the latest 'after' denials; the after-th within the window locks the caller.
      redis.call('LTRIM', denials_key, 0, after - 1)
      redis.call('PEXPIRE', denials_key, math.ceil(window / 1000))
      local oldest = tonumber(redis.call('LINDEX', denials_key, after - 1))
      if oldest ~= nil and now - oldest < window then
        redis.call('SET', lock_key, string.format('%d', now + duration), 'PX', math.ceil(duration / 1000))
        redis.call('DEL', denials_key)
        locked = duration
      end
    end
  end
  if code == 1 then reply[#reply + 1] = (here and failed == 0) and locked or 0 end

  keys_done = keys_done + policy_count + (code == 1 and 2 or 0)
  arg = first + 3 * policy_count
end
return reply
`;

/** The script's SHA-1, as Redis knows it (`SCRIPT LOAD` answers it, EVALSHA takes it). */
export const TAKE_SCRIPT_SHA1 = createHash('sha1').update(TAKE_SCRIPT).digest('hex');

/**
 * The client command names the script is defined under. Derived from its SHA-1, so a changed
 * script never runs under an old name on a client another version of this package defined.
 * `takeCommand(n)` is defined with `numberOfKeys: n` (ioredis then knows which arguments are
 * keys: with the key count as a first argument instead, auto-pipelining on a Cluster groups
 * commands by the slot of that number); `BATCH_COMMAND` takes the number of declared keys as
 * its first argument, for calls that carry several takes.
 */
const NAME = `tokenbucket_${TAKE_SCRIPT_SHA1.slice(0, 12)}`;
export const BATCH_COMMAND = NAME;
export const takeCommand = (policyCount: number): string => `${NAME}_k${policyCount}`;
