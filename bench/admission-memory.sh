#!/usr/bin/env bash
# bench/admission-memory.sh: memory of the admission webhook under the largest
# reviews it accepts, one at a time and eight at once, and /healthz meanwhile.
#
# Starts `fledge serve --admission-only` on 127.0.0.1 with a fresh certificate,
# sends AdmissionReviews just under the 7 MiB body limit (a Canary with as many
# small metrics as fit: many small JSON values are what costs memory), and reads
# the server's peak resident memory (VmHWM in /proc/PID/status). The server is
# restarted between the two runs so each peak is its own. While the eight are in
# flight it times /healthz on fresh connections, as the kubelet's probe would.
# A review answered 429 (memory budget full) is sent again after its Retry-After,
# as the API server's client does, at most 10 times.
#
# Environment:
#   FLEDGE_BIN   use this fledge binary instead of `swift build -c release`
#   PORT         port to listen on (default 19444)
#   SERVE_ARGS   extra arguments for `fledge serve` (e.g. --memory-budget-mib 16)
#
# It reports numbers; it does not fail on large ones. Linux only (/proc).
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$script_dir/.." && pwd)
cd "$repo_root"

port=${PORT:-19444}
limit_bytes=$((7 * 1024 * 1024))
read -r -a serve_args <<<"${SERVE_ARGS:-}"

say() { printf '==> %s\n' "$*"; }
die() {
    printf 'admission-memory.sh: error: %s\n' "$*" >&2
    exit 1
}

command -v curl >/dev/null 2>&1 || die "curl is not installed (sudo apt-get install curl)"
command -v python3 >/dev/null 2>&1 || die "python3 is needed to write the review"
[[ -r /proc/self/status ]] || die "needs Linux /proc to read VmHWM"

if [[ -n ${FLEDGE_BIN:-} ]]; then
    fledge=$FLEDGE_BIN
    [[ -x $fledge ]] || die "FLEDGE_BIN=$fledge is not an executable file"
else
    say "building: swift build -c release --product fledge"
    swift build -c release --product fledge
    fledge="$(swift build -c release --show-bin-path)/fledge"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fledge-membench.XXXXXX")
server_pid=""
stop_server() {
    [[ -n $server_pid ]] || return 0
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
}
cleanup() {
    stop_server
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$fledge" certs --out-dir "$tmp" --dns-name localhost --ip-address 127.0.0.1 >/dev/null
base_url="https://127.0.0.1:$port"

say "writing the largest allowed review (just under $limit_bytes bytes)"
python3 - "$limit_bytes" "$tmp/review.json" <<'PY'
import json, sys
limit, path = int(sys.argv[1]), sys.argv[2]
def review(count):
    metrics = [{"name": "m%06d" % i, "interval": "1m", "thresholdRange": {"min": 99}, "query": "up"}
               for i in range(count)]
    canary = {"apiVersion": "flagger.app/v1beta1", "kind": "Canary",
              "metadata": {"name": "big", "namespace": "prod"},
              "spec": {"targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "big"},
                       "service": {"port": 9898},
                       "analysis": {"interval": "1m", "threshold": 5, "maxWeight": 50, "stepWeight": 5,
                                    "metrics": metrics}}}
    return json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                       "request": {"uid": "big", "operation": "CREATE", "namespace": "prod", "name": "big",
                                   "kind": {"group": "flagger.app", "version": "v1beta1", "kind": "Canary"},
                                   "resource": {"group": "flagger.app", "version": "v1beta1",
                                                "resource": "canaries"},
                                   "userInfo": {"username": "bench"}, "object": canary}},
                      separators=(",", ":"))
low, high = 1, 200000
while low < high:
    middle = (low + high + 1) // 2
    if len(review(middle)) <= limit: low = middle
    else: high = middle - 1
text = review(low)
open(path, "w").write(text)
print("%d metrics, %d bytes" % (low, len(text)))
PY

start_server() {
    "$fledge" serve --admission-only --listen "127.0.0.1:$port" --tls-cert-dir "$tmp" \
        --metrics-listen 127.0.0.1:0 --drain-delay 0 "${serve_args[@]}" >"$tmp/server.log" 2>&1 &
    server_pid=$!
    local deadline=$((SECONDS + 30))
    until [[ $(curl -sk -o /dev/null -w '%{http_code}' --max-time 2 "$base_url/readyz" || true) == 200 ]]; do
        kill -0 "$server_pid" 2>/dev/null || {
            cat "$tmp/server.log" >&2
            die "the server exited before becoming ready"
        }
        ((SECONDS < deadline)) || die "$base_url/readyz did not answer within 30 s"
        sleep 0.2
    done
}

rss() { awk -v key="$1:" '$1 == key { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status"; }

# Sends the review, again after Retry-After while it is answered 429; prints "code attempts seconds".
send_review() {
    local attempt code started=$SECONDS
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
        code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 120 -H 'Content-Type: application/json' \
            --data-binary "@$tmp/review.json" "$base_url/validate-flagger-app-v1beta1-canary" || echo 000)
        [[ $code == 429 ]] || break
        sleep 1
    done
    echo "$code $attempt $((SECONDS - started))"
}

say "one review at a time"
start_server
idle_rss=$(rss VmRSS)
one=$(send_review)
one_peak=$(rss VmHWM)
stop_server

say "eight at once, timing /healthz meanwhile"
start_server
senders=()
for i in 1 2 3 4 5 6 7 8; do
    send_review >"$tmp/eight.$i" &
    senders+=($!)
done
running() {
    local pid
    for pid in "${senders[@]}"; do kill -0 "$pid" 2>/dev/null && return 0; done
    return 1
}
health_max=0
health_count=0
while running; do
    t=$(curl -sk -o /dev/null -w '%{time_total}' --max-time 10 "$base_url/healthz" || echo 10)
    health_max=$(awk -v a="$health_max" -v b="$t" 'BEGIN { print (b > a ? b : a) }')
    health_count=$((health_count + 1))
    sleep 0.05
done
wait "${senders[@]}"
eight_peak=$(rss VmHWM)
stop_server

printf '\nAdmission memory benchmark: reviews of %s bytes (limit %s), %s CPUs\n' \
    "$(wc -c <"$tmp/review.json")" "$limit_bytes" "$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?')"
printf 'server args: %s\n' "${SERVE_ARGS:-(defaults)}"
printf 'idle RSS: %s MB\n' "$idle_rss"
read -r code attempts seconds <<<"$one"
printf '1 at once: peak RSS %s MB; HTTP %s after %s attempt(s), %s s\n' "$one_peak" "$code" "$attempts" "$seconds"
printf '8 at once: peak RSS %s MB\n' "$eight_peak"
for i in 1 2 3 4 5 6 7 8; do
    read -r code attempts seconds <"$tmp/eight.$i"
    printf '  review %s: HTTP %s after %s attempt(s), %s s\n' "$i" "$code" "$attempts" "$seconds"
done
printf '/healthz meanwhile: %s probes, slowest %.0f ms\n' "$health_count" "$(awk -v t="$health_max" 'BEGIN { print t * 1000 }')"
printf 'manifest memory limit: %s\n' "$(awk '/limits:/ { getline; print $2 }' manifests/base/deployment.yaml)"
