/**
 * The rate-limit check-and-charge, run by Redis as one Lua script so it is atomic across every
 * window and every process: Redis runs a script with nothing interleaved.
 *
 * Algorithm: a sliding-window log per window (the same as core's in-memory store), one sorted
 * set member per unit of cost, scored by the time it was charged. A request is granted only if,
 * in every window, the charges of the last `perMs` plus this one stay within `requests`; then
 * every window is charged, otherwise none is. Memory per window is bounded by `requests`.
 *
 * KEYS: one sorted set per window, then the sequence counter.
 * ARGV: mode ('acquire' | 'peek'), cost, now ('' = use the server's TIME), then per window
 *       `requests`, `perMs`.
 * Returns { granted (1|0), retryAfterMs (-1 = never fits), blocking window (0-based, -1 none),
 *           remaining per window... }.
 */
export const SLIDING_WINDOW_SCRIPT = `
local windows = #KEYS - 1
local mode = ARGV[1]
local cost = tonumber(ARGV[2])
local now
if ARGV[3] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
else
  now = tonumber(ARGV[3])
end

local used = {}
local blocked = -1
local retry = 0
for i = 1, windows do
  local limit = tonumber(ARGV[2 + 2 * i])
  local per = tonumber(ARGV[3 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - per)
  local u = redis.call('ZCARD', KEYS[i])
  used[i] = u
  if mode == 'acquire' and u + cost > limit then
    local wait
    if cost > limit then
      wait = -1
    else
      -- The window has budget again once the oldest (u + cost - limit) units have aged out.
      local excess = u + cost - limit
      local entry = redis.call('ZRANGE', KEYS[i], excess - 1, excess - 1, 'WITHSCORES')
      wait = math.max(1, tonumber(entry[2]) + per - now)
    end
    -- Report the longest wait: only then does every window have budget.
    if retry ~= -1 and (wait == -1 or wait > retry) then
      retry = wait
      blocked = i - 1
    end
  end
end

local result = {}
if mode == 'acquire' and blocked == -1 then
  local first = redis.call('INCRBY', KEYS[windows + 1], cost) - cost
  local longest = 0
  for i = 1, windows do
    local per = tonumber(ARGV[3 + 2 * i])
    for c = 1, cost do
      redis.call('ZADD', KEYS[i], now, tostring(first + c))
    end
    redis.call('PEXPIRE', KEYS[i], per)
    if per > longest then longest = per end
    used[i] = used[i] + cost
  end
  redis.call('PEXPIRE', KEYS[windows + 1], longest)
  result = { 1, 0, -1 }
else
  if mode == 'acquire' then
    result = { 0, retry, blocked }
  else
    result = { 1, 0, -1 }
  end
end
for i = 1, windows do
  local remaining = tonumber(ARGV[2 + 2 * i]) - used[i]
  if remaining < 0 then remaining = 0 end
  result[3 + i] = remaining
end
return result
`;
