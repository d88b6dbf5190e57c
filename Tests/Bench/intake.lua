-- wrk: submits a distinct CAP message per request (the fixture's identifier made unique per
-- thread and request), as an issuer. Arguments: FIXTURE TOKEN [PAUSE_MS]; with a pause, each
-- connection waits that long after every answer (a steady rate instead of all it can take).
local threads = 0
function setup(thread)
    threads = threads + 1
    thread:set("thread_number", threads)
end

function init(args)
    local file = assert(io.open(args[1], "r"))
    template = file:read("*a")
    file:close()
    pause = tonumber(args[3] or "0")
    sent = 0
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/cap+xml"
    wrk.headers["Authorization"] = "Bearer " .. args[2]
end

function request()
    sent = sent + 1
    local identifier = string.format("bench-intake-%d-%d-%d", os.time(), thread_number, sent)
    local body = template:gsub("hn%-weather%-20260701%-bench", identifier)
    return wrk.format(nil, nil, nil, body)
end

function delay()
    return pause
end
