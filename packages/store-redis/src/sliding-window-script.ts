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
 * Beside the log: a hash of lowered budgets (field `<perMs>:<configured requests>`, value
 * `<requests>:<until>`; the hash also expires LOWERED_BUDGET_TTL_MS after the last `lower`), applied by
 * acquire, peek and refuse for every process; and a hash of demands (field: participant, value
 * `<until>:<units>`), pruned of expired entries on every `demand`.
 *
 * KEYS: the log (sorted set), the sequence counter, the "blocked until" marker, the lowered
 *       budgets (hash), the demands (hash).
 * ARGV: mode ('acquire' | 'peek' | 'settle' | 'refuse' | 'frees' | 'demand' | 'lower'), cost
 *       (demand: units; lower: the window, 0-based), now ('' = Redis TIME), charge id
 *       ('<first>:<cost>', settle/refuse; demand: the participant; lower: the lowered
 *       requests), Retry-After ms ('' = none, refuse; demand/lower: the entry's lifetime),
 *       lease ms, poll ms, then per window `requests`, `perMs`.
 * Returns:
 * - acquire/peek/settle: { granted (1|0), retryAfterMs (-1 = never fits), blocking window
 *   (0-based, -1 none), charge id ('' unless granted), remaining per window..., then the
 *   requests in force per window... only when a lowered budget applies }
 * - refuse: { blockedUntil, used per window..., then the requests in force as above }
 * - frees: per window, ms until its oldest settled charge leaves (a whole window if none)
 * - demand: the other participants' live demands
 * - lower: { 1 }
 */
export const SLIDING_WINDOW_SCRIPT = `
local log, seqKey, blockedKey, loweredKey, demandKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
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

if mode == 'demand' then
  local others = {}
  local entries = redis.call('HGETALL', demandKey)
  for e = 1, #entries, 2 do
    local value = entries[e + 1]
    local sep = string.find(value, ':', 1, true)
    local untilMs, units = tonumber(string.sub(value, 1, sep - 1)), tonumber(string.sub(value, sep + 1))
    if untilMs <= now then
      redis.call('HDEL', demandKey, entries[e])
    elseif entries[e] ~= chargeId then
      others[#others + 1] = units
    end
  end
  local ttl = tonumber(ARGV[5])
  if cost > 0 then
    redis.call('HSET', demandKey, chargeId, (now + ttl) .. ':' .. cost)
    redis.call('PEXPIRE', demandKey, ttl)
  else
    redis.call('HDEL', demandKey, chargeId)
  end
  return others
end

if mode == 'lower' then
  local i = cost + 1
  local requests = tonumber(chargeId)
  if limits[i] and requests >= 1 and requests < limits[i] then
    local field = pers[i] .. ':' .. limits[i]
    local previous = redis.call('HGET', loweredKey, field)
    if previous then
      local sep = string.find(previous, ':', 1, true)
      local was, untilMs = tonumber(string.sub(previous, 1, sep - 1)), tonumber(string.sub(previous, sep + 1))
      if untilMs > now and was < requests then requests = was end
    end
    local ttl = tonumber(ARGV[5])
    redis.call('HSET', loweredKey, field, requests .. ':' .. (now + ttl))
    redis.call('PEXPIRE', loweredKey, ttl)
  end
  return { 1 }
end

-- A budget lowered after refusals (here or in another process) applies to the same window
-- configured at the same requests; never below one request's cost.
local lowered = false
if redis.call('EXISTS', loweredKey) == 1 then
  for i = 1, windows do
    local value = redis.call('HGET', loweredKey, pers[i] .. ':' .. limits[i])
    if value then
      local sep = string.find(value, ':', 1, true)
      local requests, untilMs = tonumber(string.sub(value, 1, sep - 1)), tonumber(string.sub(value, sep + 1))
      if untilMs > now and requests < limits[i] then
        local floor = 1
        if mode == 'acquire' then floor = math.min(cost, limits[i]) end
        limits[i] = math.max(requests, floor)
        lowered = true
      end
    end
  end
end
local function withLimits(result)
  if lowered then
    local n = #result
    for i = 1, windows do result[n + i] = limits[i] end
  end
  return result
end

if mode == 'settle' then
  for _, member in ipairs(members(chargeId)) do
    redis.call('ZADD', log, 'XX', now, member)
  end
  -- Answer with the remaining budget, as a peek does.
  mode = 'peek'
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
  return withLimits(result)
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
return withLimits(result)
`;
