// The Lua script behind RedisStore.take: refill, test and debit every bucket in one atomic step.
import { createHash } from 'node:crypto';

/**
 * Atomic multi-policy token-bucket takes, several in one call, in the GCRA form: a bucket is one
 * integer, its "theoretical arrival time" (TAT) in microseconds of Redis time. With I the
 * microseconds one token takes to refill and tau = capacity x I, a bucket whose TAT is `ahead`
 * microseconds past now holds (tau - ahead) / I tokens; a missing key, or a TAT in the past, is a
 * full bucket. Taking `cost` tokens moves the TAT forward by inc = ceil(cost x I), and is possible
 * only if ahead + inc <= tau. All arithmetic is on integers below 2^53, so it is exact.
 *
 * Takes run one after the other, each all-or-nothing across its policies: allowed only if every
 * bucket can take its inc; then each TAT moves forward and is written with PX = ms until the
 * bucket is full again, so idle buckets expire. A denied take writes nothing. A later take in
 * the same call sees an earlier one's writes. Time is Redis's own (TIME), never the app's.
 *
 * KEYS: the bucket keys of every take, in order. One take's keys share one `{caller}` hash tag,
 * so one Cluster slot.
 * ARGV[1]: the number of takes. Then per take: its number of policies, and per policy its tau
 * and inc (microseconds; an inc of 0 only reads).
 * Reply, per take: 1 if it was allowed (and debited) or 0, then each bucket's `ahead` before the
 * take, in KEYS order.
 */
export const TAKE_SCRIPT = `
local clock = redis.call('TIME')
local now = clock[1] * 1000000 + clock[2] -- microseconds of Redis time
local take_count = tonumber(ARGV[1])
local reply = {}
local keys_done = 0 -- KEYS used by the takes before this one
local arg = 2 -- ARGV index of this take's policy count

for take = 1, take_count do
  local policy_count = tonumber(ARGV[arg])
  local tats = {} -- each bucket's TAT, a full bucket read as now
  local incs = {}
  local allowed = true
  for i = 1, policy_count do
    local tau = tonumber(ARGV[arg + 2 * i - 1]) -- capacity x I: how far ahead a TAT may go
    local inc = tonumber(ARGV[arg + 2 * i]) -- ceil(cost x I): how far this take moves it
    local tat = tonumber(redis.call('GET', KEYS[keys_done + i]))
    if tat == nil or tat < now then tat = now end
    if tat - now + inc > tau then allowed = false end
    tats[i] = tat
    incs[i] = inc
  end

  reply[#reply + 1] = allowed and 1 or 0
  for i = 1, policy_count do
    local tat = tats[i]
    if allowed and incs[i] > 0 then
      local new_tat = tat + incs[i]
      redis.call('SET', KEYS[keys_done + i], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
    end
    reply[#reply + 1] = tat - now
  end

  keys_done = keys_done + policy_count
  arg = arg + 1 + 2 * policy_count
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
 * commands by the slot of that number); `BATCH_COMMAND` takes the key count as its first
 * argument, for calls that carry several takes.
 */
const NAME = `tokenbucket_${TAKE_SCRIPT_SHA1.slice(0, 12)}`;
export const BATCH_COMMAND = NAME;
export const takeCommand = (policyCount: number): string => `${NAME}_k${policyCount}`;
