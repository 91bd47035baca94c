#!/usr/bin/env bash
# Memory of the progression worker per Canary, with the worker in its own process.
#
# Starts `fledge playground --no-worker` (the embedded API server, its admission gate and simulated
# Deployment controller, without a worker) and `fledge serve` against it (the worker under test, in
# its own process), creates CANARIES Deployments and Canaries, waits until the worker has
# initialised every one (each has a primary, services, a TrafficSplit and status Initialized), then
# prints the serve process's RSS growth per Canary. Numbers only; it asserts nothing.
#
#   bench/worker-memory.sh                     # 1,000 Canaries, .build/release/fledge if built
#   CANARIES=10000 FLEDGE=.build/debug/fledge bench/worker-memory.sh
#
# Needs kubectl, curl and python3. A release build is what the numbers are meant for:
#   swift build -c release --product fledge
set -euo pipefail
cd "$(dirname "$0")/.."

CANARIES=${CANARIES:-1000}
FLEDGE=${FLEDGE:-}
if [[ -z "$FLEDGE" ]]; then
    if [[ -x .build/release/fledge ]]; then FLEDGE=.build/release/fledge; else FLEDGE=.build/debug/fledge; fi
fi
[[ -x "$FLEDGE" ]] || { echo "no fledge binary at $FLEDGE: run swift build -c release --product fledge" >&2; exit 2; }
for tool in kubectl curl python3; do
    command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 2; }
done

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
export KUBECONFIG="$work/kubeconfig"

api_port=$(free_port)
"$FLEDGE" playground --no-worker --listen-api "127.0.0.1:$api_port" --kubeconfig-out "$KUBECONFIG" \
    --speed 100 --log-level error >"$work/playground.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do
    [[ -s "$KUBECONFIG" ]] && kubectl get --raw /readyz >/dev/null 2>&1 && break
    sleep 0.1
done
kubectl get --raw /readyz >/dev/null || { cat "$work/playground.log" >&2; exit 1; }
kubectl create namespace bench >/dev/null

"$FLEDGE" certs --out-dir "$work/tls" --dns-name localhost >/dev/null
metrics_port=$(free_port)
"$FLEDGE" serve --listen "127.0.0.1:$(free_port)" --tls-cert-dir "$work/tls" --kubeconfig "$KUBECONFIG" \
    --metrics-listen "127.0.0.1:$metrics_port" --leader-election-namespace bench \
    --metrics-server "http://127.0.0.1:1" --log-level error >"$work/serve.log" 2>&1 &
serve=$!
pids+=($serve)
for _ in $(seq 1 600); do
    curl -fs "http://127.0.0.1:$metrics_port/readyz" >/dev/null 2>&1 && break
    sleep 0.1
done
sleep 5 # the Lease is taken and the empty informers have listed
base=$(rss_kib "$serve")

python3 - "$CANARIES" >"$work/objects.json" <<'EOF'
import json, sys
count = int(sys.argv[1])
items = []
for i in range(count):
    name = f"app-{i}"
    labels = {"app": name}
    items.append({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "bench", "labels": labels},
        "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": "app", "image": "ghcr.io/stefanprodan/podinfo:6.0.0",
                                                       "ports": [{"containerPort": 9898}]}]}}},
    })
    items.append({
        "apiVersion": "flagger.app/v1beta1", "kind": "Canary",
        "metadata": {"name": name, "namespace": "bench"},
        "spec": {"provider": "linkerd",
                 "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                 "service": {"port": 9898},
                 "analysis": {"interval": "1m", "threshold": 5, "maxWeight": 50, "stepWeight": 10,
                              "metrics": [{"name": "request-success-rate", "thresholdRange": {"min": 99},
                                           "interval": "1m"}]}},
    })
print(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
EOF
start=$SECONDS
kubectl create --validate=false -f "$work/objects.json" >/dev/null
echo "created $CANARIES Deployments and Canaries in $((SECONDS - start)) s"

initialized=0
for _ in $(seq 1 720); do
    initialized=$(kubectl -n bench get canaries -o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}' \
        | grep -c '^Initialized$' || true)
    [[ "$initialized" -ge "$CANARIES" ]] && break
    sleep 5
done
echo "initialised $initialized of $CANARIES in $((SECONDS - start)) s"
sleep 10 # a few idle ticks
after=$(rss_kib "$serve")
echo "binary: $FLEDGE"
echo "worker RSS: $((base / 1024)) MiB before, $((after / 1024)) MiB with $CANARIES Canaries"
python3 -c "print(f'worker memory per Canary: {($after - $base) / $CANARIES:.1f} KiB (RSS growth, worker process only)')"
