// The Lua script behind RedisStore.take: refill, test and debit every bucket in one atomic step.

/**
 * Atomic multi-policy token-bucket takes, several in one call, in the GCRA form: a bucket is one
 * integer, its "theoretical arrival time" (TAT) in microseconds of Redis time. With I the
 * microseconds one token takes to refill and tau = capacity x I, a bucket whose TAT is `ahead`
 * microseconds past now holds (tau - ahead) / I tokens; a missing key, or a TAT in the past, is a
 * full bucket. Taking `cost` tokens moves the TAT forward by inc = ceil(cost x I), and is possible
 * only if ahead + inc <= tau. All arithmetic is on integers below 2^53, so it is exact.
 *
 * KEYS         the bucket keys of every take, in order (one take's keys share one `{caller}`
 *              hash tag, so one Cluster slot; a call holds several takes only off a Cluster)
 * ARGV[1]      the number of takes m
 * then, per take: n (its number of policies), and per policy: tau, inc (microseconds; inc 0
 *              only reads)
 *
 * Takes run one after the other, each all-or-nothing across its policies: allowed only if every
 * bucket can take its inc; then each TAT moves forward and is written with PX = ms until the
 * bucket is full again, so idle buckets expire. A denied take writes nothing. A later take in
 * the same call sees an earlier one's writes. Time is Redis's own (TIME), never the app's.
 * Replies with every bucket's `ahead` (microseconds, before its take), in KEYS order.
 */
export const TAKE_SCRIPT = `
local t = redis.call('TIME')
local now = t[1] * 1000000 + t[2]
local reply = {}
local k = 0
local a = 2
for j = 1, tonumber(ARGV[1]) do
  local n = tonumber(ARGV[a])
  local tats = {}
  local ok = true
  for i = 1, n do
    local tat = tonumber(redis.call('GET', KEYS[k + i]))
    if tat == nil or tat < now then tat = now end
    tats[i] = tat
    if tat - now + tonumber(ARGV[a + 2 * i]) > tonumber(ARGV[a + 2 * i - 1]) then ok = false end
  end
  for i = 1, n do
    local inc = tonumber(ARGV[a + 2 * i])
    if ok and inc > 0 then
      local tat = tats[i] + inc
      redis.call('SET', KEYS[k + i], string.format('%d', tat), 'PX', math.ceil((tat - now) / 1000))
    end
    reply[k + i] = tats[i] - now
  end
  k = k + n
  a = a + 1 + 2 * n
end
return reply
`;
