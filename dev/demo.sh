#!/usr/bin/env bash
# make demo: with the local stack up, run a worker, submit examples/spark-pi.yaml and
# follow it to the end, then stop the worker. Exits with the job's outcome (0 = COMPLETED).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
state=${KINDLING_DEV_DIR:-$root/.dev}
bin=$root/bin
export KUBECONFIG=$state/kubeconfig
export TEMPORAL_ADDRESS=${TEMPORAL_ADDRESS:-127.0.0.1:7233}

[[ -f $KUBECONFIG ]] || { echo "[demo] the local stack is not up: run make dev-up" >&2; exit 1; }

stop_worker() {
	local pid
	[[ -f $state/demo-worker.pid ]] || return 0
	pid=$(<"$state/demo-worker.pid")
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
	kill -KILL "$pid" 2>/dev/null || true
	rm -f "$state/demo-worker.pid"
	echo "[demo] worker stopped" >&2
}
trap stop_worker EXIT

echo "[demo] starting kindling-worker (log: $state/demo-worker.log)" >&2
"$bin/kindling-worker" >"$state/demo-worker.log" 2>&1 &
echo $! >"$state/demo-worker.pid"
for _ in $(seq 1 120); do
	grep -q "worker started" "$state/demo-worker.log" && break
	kill -0 "$(<"$state/demo-worker.pid")" 2>/dev/null || { cat "$state/demo-worker.log" >&2; exit 1; }
	sleep 0.5
done

echo "[demo] submitting examples/spark-pi.yaml" >&2
"$bin/kindling" submit -f "$root/examples/spark-pi.yaml" --wait
