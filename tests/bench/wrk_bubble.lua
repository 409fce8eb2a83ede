-- wrk script for tests/bench/bench.py.
--
-- Environment:
--   BUBBLE_SPEC      a JSON spec file: POSTed as the body of every request
--                    (unset or empty: plain GETs of the URL)
--   BUBBLE_DELAY_MS  pause before each request on a connection, in ms
--                    (a light, steady probe instead of a flood)
--
-- done() prints one line, "BENCH {json}", with the request count, latency
-- percentiles in microseconds, socket errors and a count per HTTP status
-- (so deliberate 503s are told apart from failures).

local spec = os.getenv("BUBBLE_SPEC")
local delay_ms = tonumber(os.getenv("BUBBLE_DELAY_MS") or "0") or 0

if spec and spec ~= "" then
    local f = assert(io.open(spec, "rb"))
    wrk.body = f:read("*a")
    f:close()
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
end

local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    statuses = {}
end

function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
end

if delay_ms > 0 then
    function delay()
        return delay_ms
    end
end

function done(summary, latency, requests)
    local st = {}
    for _, t in ipairs(threads) do
        local s = t:get("statuses")
        if s then
            for k, v in pairs(s) do
                st[k] = (st[k] or 0) + v
            end
        end
    end

    local parts = {}
    for k, v in pairs(st) do
        table.insert(parts, string.format('"%d":%d', k, v))
    end

    local e = summary.errors
    io.write(string.format(
        'BENCH {"requests":%d,"duration_us":%d,"bytes":%d,' ..
        '"p50_us":%d,"p90_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d,' ..
        '"mean_us":%.1f,"err_connect":%d,"err_read":%d,"err_write":%d,' ..
        '"err_timeout":%d,"err_status":%d,"statuses":{%s}}\n',
        summary.requests, summary.duration, summary.bytes,
        latency:percentile(50), latency:percentile(90),
        latency:percentile(95), latency:percentile(99), latency.max,
        latency.mean, e.connect, e.read, e.write, e.timeout, e.status,
        table.concat(parts, ",")))
end
