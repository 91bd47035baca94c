-- bench/admission.lua: wrk script for bench/admission.sh.
--
-- Every request is the same POST of an AdmissionReview (a Canary CREATE, read
-- once from bench/canary-review.json) with Content-Type: application/json,
-- like the API server sends. Set ADMISSION_REVIEW to use another body file.
-- No request() function is defined, so wrk builds the request once and
-- reuses it: the Lua side adds no per-request cost.

local path = os.getenv("ADMISSION_REVIEW") or "bench/canary-review.json"
local file, err = io.open(path, "rb")
if not file then
  io.stderr:write("admission.lua: cannot open " .. path .. ": " .. tostring(err) .. "\n")
  os.exit(1)
end
local body = file:read("*a")
file:close()

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
