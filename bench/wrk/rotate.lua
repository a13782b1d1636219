-- wrk script: sets header args[1] to the next line of file args[2] on every request, starting after line args[3],
-- so every request carries another credential (e.g. a distinct token: no verification cache hit).
local name, values, n, i = nil, {}, 0, 0

function init(args)
  name = args[1]
  for line in io.lines(args[2]) do
    n = n + 1
    values[n] = line
  end
  i = tonumber(args[3]) or 0
end

function request()
  i = i + 1
  if i > n then i = 1 end
  wrk.headers[name] = values[i]
  return wrk.format()
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\nBENCH_JSON {"requests":%d,"duration_us":%d,"errors":%d,"non2xx":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
