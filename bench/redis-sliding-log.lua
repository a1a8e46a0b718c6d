-- Exact sliding-window log for one (rule, key), decided atomically inside Redis.
-- The log is a sorted set: ONE MEMBER PER UNIT OF COST, scored by its grant time in ms, so the
-- window's used amount is ZCARD (O(1)) and "when does this cost fit" is one ZRANGE by rank.
-- Members are the values of a global sequence (KEYS[2], INCRBY cost per grant), hence unique
-- across requests and keys; the sequence after a grant is reported as the decision's index.
-- Granted iff (units with score in (ts - windowMs, ts]) + cost <= limit, as in the contract.
--
-- KEYS[1] log key, KEYS[2] sequence key; ARGV[1] limit, ARGV[2] windowMs, ARGV[3] cost.
-- Returns {allowed 0|1, remaining, resetMs, retryAfterMs (-1 = never fits), index, ts}.
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])

-- Server time, so every client process agrees; clamped so ts never goes back within a key's log
-- (a stepped-back Redis clock would otherwise let old grants out of the window early).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if newest[2] ~= nil and tonumber(newest[2]) > now then now = tonumber(newest[2]) end

-- A unit granted at s is in the window while s > now - window.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local used = redis.call('ZCARD', KEYS[1])

if used + cost <= limit then
  local last = redis.call('INCRBY', KEYS[2], cost)
  -- ZADD in bounded chunks: Lua's unpack has a stack limit of a few thousand values.
  local chunkMax = 500
  local first = last - cost + 1
  while first <= last do
    local stop = math.min(first + chunkMax - 1, last)
    local args = {}
    for seq = first, stop do
      args[#args + 1] = now
      args[#args + 1] = seq
    end
    redis.call('ZADD', KEYS[1], unpack(args))
    first = stop + 1
  end
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, limit - used - cost, window, 0, last, now}
end

-- Denied: read-only (nothing is written, so nothing reaches the AOF).
local index = tonumber(redis.call('GET', KEYS[2]) or '0')
local resetMs = 0
if used > 0 then
  local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  resetMs = tonumber(top[2]) + window - now
end
local retryAfterMs = -1
if cost <= limit then
  -- The (used + cost - limit)-th oldest unit must leave the window for this cost to fit.
  local rank = used + cost - limit - 1
  local unit = redis.call('ZRANGE', KEYS[1], rank, rank, 'WITHSCORES')
  retryAfterMs = tonumber(unit[2]) + window - now
end
local remaining = limit - used
if remaining < 0 then remaining = 0 end
return {0, remaining, resetMs, retryAfterMs, index, now}
