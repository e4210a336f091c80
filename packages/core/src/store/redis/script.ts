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
 * bucket is full again, so idle buckets expire. A denied take writes nothing, but for one case: a
 * TAT more than tau ahead (written by a server whose clock was ahead of this one's, before a
 * failover) is capped at tau ahead, an empty bucket, and written back, so the bucket refills
 * from now on and the wait it reports stays true. A later take in the same call sees an earlier
 * one's writes. Time is Redis's own (TIME), never the app's.
 *
 * Keys: KEYS, then the `extra` keys among the arguments. On a Cluster, one call carries the takes
 * of callers whose slots one master serves: it declares only the first take's first key (the
 * client routes the call by it) and passes the others as arguments, and a take whose keys this
 * node does not serve (its slot moved) is skipped and answered "not here", for the client to
 * send again on its own. One take's keys share one `{caller}` hash tag, so one slot.
 *
 * ARGV: the number of extra keys, the extra keys, the number of takes; then per take its number
 * of policies, and per policy its tau and inc (microseconds; an inc of 0 only reads).
 * Reply, per take: 1 if it was allowed (and debited), 0 if denied, -1 if not here; then each
 * bucket's `ahead` before the take (0 when not here), in key order.
 */
export const TAKE_SCRIPT = `
local clock = redis.call('TIME')
local now = clock[1] * 1000000 + clock[2] -- microseconds of Redis time
local keys = {} -- KEYS, then the extra keys
for i = 1, #KEYS do keys[i] = KEYS[i] end
local extra_count = tonumber(ARGV[1])
for i = 1, extra_count do keys[#KEYS + i] = ARGV[1 + i] end
local take_count = tonumber(ARGV[2 + extra_count])
local reply = {}
local keys_done = 0 -- keys used by the takes before this one
local arg = 3 + extra_count -- ARGV index of this take's policy count

-- Whether an error is a cluster node's for a key it does not serve: the take belongs elsewhere.
local function elsewhere(err)
  return string.find(err, 'non local key', 1, true) ~= nil or string.find(err, '^MOVED ') ~= nil
    or string.find(err, '^ASK ') ~= nil or string.find(err, '^TRYAGAIN') ~= nil
    or string.find(err, '^CLUSTERDOWN') ~= nil
end

for take = 1, take_count do
  local policy_count = tonumber(ARGV[arg])
  local tats = {} -- each bucket's TAT, a full bucket read as now
  local incs = {}
  local taus = {}
  local capped = {} -- TATs cut back to tau ahead: written even when the take is denied
  local allowed = true
  local here = true
  for i = 1, policy_count do
    local tau = tonumber(ARGV[arg + 2 * i - 1]) -- capacity x I: how far ahead a TAT may go
    local inc = tonumber(ARGV[arg + 2 * i]) -- ceil(cost x I): how far this take moves it
    local stored = redis.pcall('GET', keys[keys_done + i])
    if type(stored) == 'table' and stored.err then
      if not elsewhere(stored.err) then return stored end
      here = false
      break
    end
    local tat = tonumber(stored)
    if tat == nil or tat < now then tat = now end
    if tat > now + tau then
      tat = now + tau
      capped[i] = true
    end
    if tat - now + inc > tau then allowed = false end
    tats[i] = tat
    incs[i] = inc
    taus[i] = tau
  end

  if not here then
    reply[#reply + 1] = -1
    for i = 1, policy_count do reply[#reply + 1] = 0 end
  else
    reply[#reply + 1] = allowed and 1 or 0
    for i = 1, policy_count do
      local tat = tats[i]
      local key = keys[keys_done + i]
      if allowed and incs[i] > 0 then
        local new_tat = tat + incs[i]
        redis.call('SET', key, string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
      elseif capped[i] then
        redis.call('SET', key, string.format('%d', tat), 'PX', math.ceil(taus[i] / 1000))
      end
      reply[#reply + 1] = tat - now
    end
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
 * commands by the slot of that number); `BATCH_COMMAND` takes the number of declared keys as
 * its first argument, for calls that carry several takes.
 */
const NAME = `tokenbucket_${TAKE_SCRIPT_SHA1.slice(0, 12)}`;
export const BATCH_COMMAND = NAME;
export const takeCommand = (policyCount: number): string => `${NAME}_k${policyCount}`;
