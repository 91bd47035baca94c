#!/usr/bin/env bash
# bench/admission.sh: throughput, latency and memory of the admission webhook.
#
# Starts `fledge serve --admission-only` on 127.0.0.1 with a fresh certificate,
# drives the Canary validate and mutate endpoints with wrk (HTTPS, keep-alive,
# the same AdmissionReview body the API server would send for
# `kubectl apply -f manifests/examples/canary.yaml`), and prints requests/s,
# p50 and p99 latency per endpoint and the server's peak RSS.
#
# Environment:
#   FLEDGE_BIN   use this fledge binary instead of `swift build -c release`
#   PORT         port to listen on (default 19443)
#   DURATION     wrk duration per endpoint (default 15s)
#   THREADS      wrk threads (default 1: one thread drives 32 connections at well
#                over the goal using about a third of a core; a second one only adds a
#                thread competing with the server for the same 2 cores)
#   CONNECTIONS  wrk connections (default 32)
#   SERVE_ARGS   extra arguments for `fledge serve` (e.g. --admission-threads 4)
#
# It reports numbers; it does not fail on slow results. Goals: bench/README.md.
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$script_dir/.." && pwd)
cd "$repo_root"

port=${PORT:-19443}
duration=${DURATION:-15s}
threads=${THREADS:-1}
connections=${CONNECTIONS:-32}
lua_script="$script_dir/admission.lua"
export ADMISSION_REVIEW="$script_dir/canary-review.json" # read by admission.lua

say() { printf '==> %s\n' "$*"; }
die() {
    printf 'admission.sh: error: %s\n' "$*" >&2
    exit 1
}

# --- tools ------------------------------------------------------------------------
if ! command -v wrk >/dev/null 2>&1; then
    die "wrk is not installed. Install it with: sudo apt-get install wrk   (macOS: brew install wrk)"
fi
command -v curl >/dev/null 2>&1 || die "curl is not installed (sudo apt-get install curl)"
[[ -r $ADMISSION_REVIEW ]] || die "missing request body $ADMISSION_REVIEW"

if [[ -n ${FLEDGE_BIN:-} ]]; then
    fledge=$FLEDGE_BIN
    [[ -x $fledge ]] || die "FLEDGE_BIN=$fledge is not an executable file"
    say "using $fledge"
else
    command -v swift >/dev/null 2>&1 || die "swift not found; install it or set FLEDGE_BIN=/path/to/fledge"
    say "building: swift build -c release --product fledge"
    swift build -c release --product fledge
    fledge="$(swift build -c release --show-bin-path)/fledge"
    [[ -x $fledge ]] || die "build finished but $fledge is missing"
fi

# --- server -----------------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fledge-bench.XXXXXX")
server_pid=""

stop_server() {
    [[ -n $server_pid ]] || return 0
    if kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        local waited=0
        while kill -0 "$server_pid" 2>/dev/null && ((waited < 100)); do
            sleep 0.1
            waited=$((waited + 1))
        done
        if kill -0 "$server_pid" 2>/dev/null; then
            printf 'admission.sh: server did not exit 10 s after SIGTERM; killing it\n' >&2
            kill -KILL "$server_pid" 2>/dev/null || true
        fi
    fi
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

if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "something is already listening on 127.0.0.1:$port (set PORT=...)"
fi

say "certificate for localhost / 127.0.0.1 in $tmp"
"$fledge" certs --out-dir "$tmp" --dns-name localhost --ip-address 127.0.0.1 >/dev/null

base_url="https://127.0.0.1:$port"
# Builds that have them: metrics on a free loopback port (not 0.0.0.0:9090), no drain delay at the end.
# Older builds (for a before/after comparison) serve /metrics on the webhook port and take neither flag.
serve_args=()
if "$fledge" serve --help 2>/dev/null | grep -q -- '--metrics-listen'; then
    serve_args=(--metrics-listen 127.0.0.1:0 --drain-delay 0)
fi
read -r -a extra_args <<<"${SERVE_ARGS:-}"
say "starting: fledge serve --admission-only --listen 127.0.0.1:$port ${serve_args[*]} ${extra_args[*]}"
"$fledge" serve --admission-only --listen "127.0.0.1:$port" --tls-cert-dir "$tmp" \
    "${serve_args[@]}" "${extra_args[@]}" >"$tmp/server.log" 2>&1 &
server_pid=$!

deadline=$((SECONDS + 30))
until [[ $(curl -sk -o /dev/null -w '%{http_code}' --max-time 2 "$base_url/readyz" || true) == 200 ]]; do
    if ! kill -0 "$server_pid" 2>/dev/null; then
        cat "$tmp/server.log" >&2
        die "the server exited before becoming ready (log above)"
    fi
    if ((SECONDS >= deadline)); then
        tail -n 40 "$tmp/server.log" >&2
        die "$base_url/readyz did not answer 200 within 30 s (log above)"
    fi
    sleep 0.2
done
say "ready: $base_url/readyz answers 200"

# --- measurements ------------------------------------------------------------------
# wrk prints latencies as 301.00us / 1.20ms / 1.05s / 1.00m; convert to ms.
to_ms='function ms(v,  n) {
    n = v + 0
    if (v ~ /us$/) return n / 1000
    if (v ~ /ms$/) return n
    if (v ~ /m$/) return n * 60000
    if (v ~ /h$/) return n * 3600000
    if (v ~ /s$/) return n * 1000
    return n
}'

names=()
results=()

bench_endpoint() { # name path
    local name=$1 path=$2 out="$tmp/$1.wrk" code
    # One request first: a benchmark of 404s or denials-by-error measures nothing.
    code=$(curl -sk -o "$tmp/$name.response" -w '%{http_code}' --max-time 5 \
        -H 'Content-Type: application/json' --data-binary "@$ADMISSION_REVIEW" "$base_url$path" || true)
    if [[ $code != 200 ]] || ! grep -q '"uid"' "$tmp/$name.response"; then
        printf 'admission.sh: POST %s answered HTTP %s:\n' "$path" "$code" >&2
        head -c 2000 "$tmp/$name.response" >&2 || true
        printf '\n' >&2
        die "the $name endpoint does not answer AdmissionReviews; not benchmarking it"
    fi

    say "wrk -t$threads -c$connections -d$duration --latency  POST $path"
    wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$lua_script" "$base_url$path" | tee "$out"

    local rps p50 p99 non2xx errors
    rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
    p50=$(awk "$to_ms"' $1 == "50%" { printf "%.2f", ms($2) }' "$out")
    p99=$(awk "$to_ms"' $1 == "99%" { printf "%.2f", ms($2) }' "$out")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")
    errors=$(awk '/Socket errors:/ { for (i = 3; i <= NF; i++) s += $i; print s + 0 }' "$out")
    names+=("$name")
    results+=("${rps:-?}|${p50:-?}|${p99:-?}|${non2xx:-0}|${errors:-0}")
}

bench_endpoint validate /validate-flagger-app-v1beta1-canary
bench_endpoint mutate /mutate-flagger-app-v1beta1-canary

# Peak resident set size over the whole run, read before the server stops.
peak_rss="n/a"
if [[ -r /proc/$server_pid/status ]]; then
    peak_rss=$(awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status")
fi

stop_started=$SECONDS
stop_server
say "server stopped after SIGTERM in $((SECONDS - stop_started)) s"

# --- summary -------------------------------------------------------------------------
printf '\nAdmission webhook benchmark: %s threads, %s connections, %s per endpoint, %s CPUs\n' \
    "$threads" "$connections" "$duration" "$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?')"
printf '%-10s %12s %10s %10s %9s %8s\n' endpoint 'requests/s' 'p50 ms' 'p99 ms' 'non-2xx' 'errors'
for i in "${!names[@]}"; do
    IFS='|' read -r rps p50 p99 non2xx errors <<<"${results[$i]}"
    printf '%-10s %12s %10s %10s %9s %8s\n' "${names[$i]}" "$rps" "$p50" "$p99" "$non2xx" "$errors"
done
printf 'peak RSS (VmHWM): %s MB\n' "$peak_rss"
printf 'goals: >= 10000 requests/s, p99 <= 5 ms (32 connections, 2 cores), peak RSS <= 64 MB\n'
