// The Lua script behind RedisStore.take: refill, test and debit every bucket in one atomic step.

/**
 * Atomic multi-policy token-bucket take.
 *
 * KEYS[i]      bucket key of policy i (all share one `{caller}` hash tag, so one Cluster slot)
 * ARGV[1]      cost: tokens to debit from every bucket (>= 0; 0 only reads)
 * ARGV[2i]     capacity of policy i
 * ARGV[2i+1]   refill of policy i, tokens per second
 *
 * A bucket is the string "<tokens> <microseconds>": its level when last debited and the Redis
 * time of that debit. A missing bucket is full. Time is Redis's own (TIME), never the app's.
 * The take is allowed only if every bucket holds the cost after refill; then each is debited and
 * written with PX = ms until it is full again (capped near 31,000 years, and sent as an integer
 * string: a large Lua number would reach Redis in exponent form), so idle buckets expire. A denied take writes
 * nothing. Replies with each bucket's level after refill and before any debit, as strings
 * ("%.17g" round-trips a double; a number reply would be truncated to an integer).
 */
export const TAKE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local cost = tonumber(ARGV[1])
local levels = {}
local ok = true
for i = 1, #KEYS do
  local cap = tonumber(ARGV[2 * i])
  local level = cap
  local v = redis.call('GET', KEYS[i])
  if v then
    local sp = string.find(v, ' ', 1, true)
    local elapsed = now - tonumber(string.sub(v, sp + 1))
    level = tonumber(string.sub(v, 1, sp - 1))
    if elapsed > 0 then
      level = math.min(cap, level + elapsed * tonumber(ARGV[2 * i + 1]) / 1000000)
    end
  end
  levels[i] = level
  if level < cost then ok = false end
end
local reply = {}
for i = 1, #KEYS do
  if ok and cost > 0 then
    local cap = tonumber(ARGV[2 * i])
    local left = levels[i] - cost
    local ttl = math.ceil((cap - left) * 1000 / tonumber(ARGV[2 * i + 1]))
    if ttl < 1 then ttl = 1 elseif ttl > 1e15 then ttl = 1e15 end
    redis.call('SET', KEYS[i], string.format('%.17g %.17g', left, now), 'PX', string.format('%d', ttl))
  end
  reply[i] = string.format('%.17g', levels[i])
end
return reply
`;
