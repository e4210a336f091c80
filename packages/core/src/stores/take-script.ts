// The Lua script behind RedisStore.take: refill, test and debit every bucket in one atomic step.

/**
 * Atomic multi-policy token-bucket take, in the GCRA form: a bucket is one integer, its
 * "theoretical arrival time" (TAT) in microseconds of Redis time. With I the microseconds one
 * token takes to refill and tau = capacity x I, a bucket whose TAT is `ahead` microseconds past
 * now holds (tau - ahead) / I tokens; a missing key, or a TAT in the past, is a full bucket.
 * Taking `cost` tokens moves the TAT forward by inc = ceil(cost x I), and is possible only if
 * ahead + inc <= tau. All arithmetic is on integers below 2^53, so it is exact.
 *
 * KEYS[i]      bucket key of policy i (all share one `{caller}` hash tag, so one Cluster slot)
 * ARGV[2i-1]   tau of policy i: capacity x I, in microseconds
 * ARGV[2i]     inc of policy i: ceil(cost x I), in microseconds (0: only read)
 *
 * Time is Redis's own (TIME), never the app's. The take is allowed only if every bucket can
 * take its inc; then each TAT moves forward and is written with PX = ms until the bucket is
 * full again, so idle buckets expire. A denied take writes nothing. Replies with each bucket's
 * `ahead` (microseconds, before the take) as integers; the caller turns them into levels.
 */
export const TAKE_SCRIPT = `
local t = redis.call('TIME')
local now = t[1] * 1000000 + t[2]
local n = #KEYS
local tats = {}
local ok = true
for i = 1, n do
  local tat = tonumber(redis.call('GET', KEYS[i]))
  if tat == nil or tat < now then tat = now end
  tats[i] = tat
  if tat - now + tonumber(ARGV[2 * i]) > tonumber(ARGV[2 * i - 1]) then ok = false end
end
local reply = {}
for i = 1, n do
  local inc = tonumber(ARGV[2 * i])
  if ok and inc > 0 then
    local tat = tats[i] + inc
    redis.call('SET', KEYS[i], string.format('%d', tat), 'PX', math.ceil((tat - now) / 1000))
  end
  reply[i] = tats[i] - now
end
return reply
`;
