/**
 * The rate-limit store's operations, run by Redis as one Lua script so each is atomic across
 * every window and every process (Redis runs a script with nothing interleaved), on Redis's
 * clock (TIME) unless the caller passes `now`.
 *
 * The algorithm is core's `ChargeLog` (memory and file stores), held to the same conformance
 * kit: one sorted set per budget key, one member per unit of cost, scored by the moment the
 * charge counts from. A charge in flight is scored at its grant plus the lease (in the future,
 * so it stays inside every window until settled); `settle` re-scores it with the time the
 * answer came back; `refuse` removes it and blocks the key. A window counts the members scored
 * after `now - perMs`. Memory is bounded by the largest window's `requests`.
 *
 * KEYS: the log (sorted set), the sequence counter, the "blocked until" marker.
 * ARGV: mode ('acquire' | 'peek' | 'settle' | 'refuse' | 'frees'), cost, now ('' = Redis TIME),
 *       charge id ('<first>:<cost>', settle/refuse), Retry-After ms ('' = none, refuse),
 *       lease ms, poll ms, then per window `requests`, `perMs`.
 * Returns:
 * - acquire/peek: { granted (1|0), retryAfterMs (-1 = never fits), blocking window (0-based,
 *   -1 none), charge id ('' unless granted), remaining per window... }
 * - settle: { 1 }
 * - refuse: { blockedUntil, used per window... }
 * - frees: per window, ms until its oldest settled charge leaves (a whole window if none)
 */
export const SLIDING_WINDOW_SCRIPT = `
local log, seqKey, blockedKey = KEYS[1], KEYS[2], KEYS[3]
local mode = ARGV[1]
local cost = tonumber(ARGV[2])
local now
if ARGV[3] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
else
  now = tonumber(ARGV[3])
end
local chargeId = ARGV[4]
local lease = tonumber(ARGV[6])
local poll = tonumber(ARGV[7])
local windows = (#ARGV - 7) / 2
local limits, pers = {}, {}
local longest, shortest = 0, 1
for i = 1, windows do
  limits[i] = tonumber(ARGV[6 + 2 * i])
  pers[i] = tonumber(ARGV[7 + 2 * i])
  if pers[i] > longest then longest = pers[i] end
  if pers[i] < pers[shortest] then shortest = i end
end

local function members(id)
  local sep = string.find(id, ':', 1, true)
  local first, n = tonumber(string.sub(id, 1, sep - 1)), tonumber(string.sub(id, sep + 1))
  local list = {}
  for c = 1, n do list[c] = tostring(first + c) end
  return list
end

if mode == 'settle' then
  for _, member in ipairs(members(chargeId)) do
    redis.call('ZADD', log, 'XX', now, member)
  end
  return { 1 }
end

redis.call('ZREMRANGEBYSCORE', log, '-inf', now - longest)
local used = {}
for i = 1, windows do used[i] = 0 end
local function count()
  for i = 1, windows do used[i] = redis.call('ZCOUNT', log, '(' .. (now - pers[i]), '+inf') end
end

if mode == 'refuse' then
  redis.call('ZREM', log, unpack(members(chargeId)))
  count()
  local untilMs
  if ARGV[5] ~= '' then
    untilMs = now + tonumber(ARGV[5])
  else
    -- The upstream did not say: the shortest window is full until its oldest charge leaves it.
    local per = pers[shortest]
    untilMs = now + per
    local oldest = redis.call('ZRANGEBYSCORE', log, '(' .. (now - per), '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
    if oldest[2] and tonumber(oldest[2]) + per < untilMs then untilMs = tonumber(oldest[2]) + per end
  end
  local previous = tonumber(redis.call('GET', blockedKey) or '0')
  if previous > untilMs then untilMs = previous end
  if untilMs > now then redis.call('SET', blockedKey, untilMs, 'PX', untilMs - now) end
  local result = { untilMs }
  for i = 1, windows do result[1 + i] = used[i] end
  return result
end

count()
if mode == 'frees' then
  local frees = {}
  for i = 1, windows do
    local oldest = redis.call('ZRANGEBYSCORE', log, '(' .. (now - pers[i]), '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
    if oldest[2] and tonumber(oldest[2]) <= now then frees[i] = tonumber(oldest[2]) + pers[i] - now else frees[i] = pers[i] end
  end
  return frees
end
local result
local blockedUntil = tonumber(redis.call('GET', blockedKey) or '0')
if mode == 'acquire' and blockedUntil > now then
  local wait = blockedUntil - now
  for i = 1, windows do if cost > limits[i] then wait = -1 end end
  result = { 0, wait, shortest - 1, '' }
else
  local blocked, retry = -1, 0
  if mode == 'acquire' then
    for i = 1, windows do
      local excess = used[i] + cost - limits[i]
      if excess > 0 then
        local wait
        if cost > limits[i] then
          wait = -1
        else
          -- Budget returns once the oldest 'excess' units have left the window.
          local entry = redis.call('ZRANGEBYSCORE', log, '(' .. (now - pers[i]), '+inf', 'WITHSCORES', 'LIMIT', excess - 1, 1)
          local at = tonumber(entry[2])
          if at > now then wait = poll else wait = math.max(1, at + pers[i] - now) end
        end
        -- Report the longest wait: only then does every window have budget.
        if retry ~= -1 and (wait == -1 or wait > retry) then
          retry = wait
          blocked = i - 1
        end
      end
    end
  end
  if mode == 'acquire' and blocked == -1 then
    local first = redis.call('INCRBY', seqKey, cost) - cost
    for c = 1, cost do
      redis.call('ZADD', log, now + lease, tostring(first + c))
    end
    redis.call('PEXPIRE', log, longest + lease)
    redis.call('PEXPIRE', seqKey, longest + lease)
    for i = 1, windows do used[i] = used[i] + cost end
    result = { 1, 0, -1, first .. ':' .. cost }
  elseif mode == 'acquire' then
    result = { 0, retry, blocked, '' }
  else
    result = { 1, 0, -1, '' }
  end
end
for i = 1, windows do
  local remaining = limits[i] - used[i]
  if remaining < 0 then remaining = 0 end
  result[4 + i] = remaining
end
return result
`;
