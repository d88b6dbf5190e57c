-- wrk: POST a 2 KB JSON body, as a loudspeaker delivery is.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"text":"' .. string.rep("x", 2036) .. '"}'
