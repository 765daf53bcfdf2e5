#!/usr/bin/env bash
# The local stack: a Temporal dev server, a kwok cluster of real Kubernetes servers, and
# the driver emulator. Everything it starts is recorded under .dev/ so `down` stops exactly
# that and nothing else.
#
#   dev/stack.sh up | down | status | env
#
# Settings (environment):
#   KINDLING_DEV_DIR        state folder (default: <checkout>/.dev)
#   KINDLING_BIN_CACHE      built servers (default: ~/.cache/kindling/bin)
#   KINDLING_CLUSTER        kwok cluster name (default: kindling)
#   TEMPORAL_PORT / TEMPORAL_UI_PORT   (default 7233 / 8233)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
state=${KINDLING_DEV_DIR:-$root/.dev}
cluster=${KINDLING_CLUSTER:-kindling}
tport=${TEMPORAL_PORT:-7233}
uiport=${TEMPORAL_UI_PORT:-8233}
nodes=3

# kwokctl keeps its clusters under this folder, so the cluster lives and dies with .dev/.
export KWOK_WORKDIR=$state/kwok

# Search attributes the SparkJob workflow upserts (see workflows/api.go).
search_attributes=(
	KindlingJobName=Keyword
	KindlingAppId=Keyword
	KindlingState=Keyword
	KindlingNamespace=Keyword
	KindlingAttempt=Int
	KindlingLogicalDate=Datetime
	KindlingPipeline=Keyword
	KindlingTask=Keyword
)

say() { printf '[dev] %s\n' "$*" >&2; }
die() { printf '[dev] error: %s\n' "$*" >&2; exit 1; }

load_paths() {
	local line
	while IFS= read -r line; do
		[[ $line == *=* ]] && export "$line"
	done < <("$root/dev/build-tools.sh" "${1:-paths}")
}

alive() { # alive PIDFILE → pid is running and is what we started
	local f=$1 pid
	[[ -f $f ]] || return 1
	pid=$(<"$f")
	[[ -n $pid ]] && kill -0 "$pid" 2>/dev/null
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() { # wait_for SECONDS WHAT CMD…
	local secs=$1 what=$2; shift 2
	local i
	for ((i = 0; i < secs * 2; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	die "$what did not answer within ${secs}s (logs in $state)"
}

start_bg() { # start_bg NAME CMD… : own session, so `down` can stop the whole group
	local name=$1; shift
	setsid "$@" >"$state/$name.log" 2>&1 < /dev/null &
	echo $! >"$state/$name.pid"
}

stop_pid() { # stop_pid NAME : TERM the process group, then KILL after 10s
	local f="$state/$1.pid" pid i
	alive "$f" || { rm -f "$f"; return 0; }
	pid=$(<"$f")
	say "stopping $1 (pid $pid)"
	kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 20; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.5
	done
	kill -KILL -- "-$pid" 2>/dev/null || true
	rm -f "$f"
}

cluster_running() {
	[[ -f $KWOK_WORKDIR/clusters/$cluster/kwok.yaml ]] || return 1
	"$KWOKCTL" get clusters 2>/dev/null | grep -qx "$cluster" || return 1
	KUBECONFIG="$state/kubeconfig" "$state/bin/kindling-devctl" ping >/dev/null 2>&1
}

up_temporal() {
	if alive "$state/temporal.pid" && port_open "$tport"; then
		say "temporal already running (pid $(<"$state/temporal.pid"))"
		ensure_search_attributes
		return
	fi
	port_open "$tport" && die "port $tport is taken by a process this stack did not start"
	local args=(server start-dev --ip 127.0.0.1 --port "$tport" --ui-port "$uiport"
		--db-filename "$state/temporal.db" --log-level warn)
	local sa
	for sa in "${search_attributes[@]}"; do args+=(--search-attribute "$sa"); done
	say "starting temporal on 127.0.0.1:$tport (UI :$uiport, history in $state/temporal.db)"
	start_bg temporal "$TEMPORAL" "${args[@]}"
	wait_for 60 "temporal" "$TEMPORAL" operator cluster health --address "127.0.0.1:$tport"
	# A history kept from an older stack keeps its registrations; add what it lacks.
	ensure_search_attributes
}

# ensure_search_attributes registers those a server started by an older stack lacks.
ensure_search_attributes() {
	local have sa
	have=$("$TEMPORAL" operator search-attribute list --address "127.0.0.1:$tport" 2>/dev/null) || return 0
	for sa in "${search_attributes[@]}"; do
		grep -qw -- "${sa%%=*}" <<<"$have" && continue
		say "registering search attribute ${sa%%=*}"
		"$TEMPORAL" operator search-attribute create --address "127.0.0.1:$tport" --name "${sa%%=*}" --type "${sa#*=}" >/dev/null
	done
}

up_cluster() {
	# Pod logs (kubectl logs, kindling logs) need kwok's Logs CRD, and a thousand jobs need the
	# servers without client rate limits: only a new cluster gets either.
	local conf=$KWOK_WORKDIR/clusters/$cluster/kwok.yaml
	if [[ -d $KWOK_WORKDIR/clusters/$cluster ]] && { ! grep -q -- '- Logs' "$conf" 2>/dev/null ||
		! grep -q 'disableQPSLimits: true' "$conf" 2>/dev/null || ! grep -q 'leader-elect' "$conf" 2>/dev/null; }; then
		say "the kwok cluster '$cluster' predates pod logs or unlimited clients: making it anew"
		stop_pid emulator
		"$KWOKCTL" delete cluster --name "$cluster" >>"$state/kwokctl.log" 2>&1 || true
	fi
	if cluster_running; then
		say "kwok cluster '$cluster' already running"
		KUBECONFIG="$state/kubeconfig" "$state/bin/kindling-devctl" setup "$root/deploy/crds"
		return
	fi
	if [[ -d $KWOK_WORKDIR/clusters/$cluster ]]; then
		say "starting the stopped kwok cluster '$cluster'"
		"$KWOKCTL" start cluster --name "$cluster" --wait 2m >>"$state/kwokctl.log" 2>&1 || {
			say "could not restart it; creating it anew"
			"$KWOKCTL" delete cluster --name "$cluster" >>"$state/kwokctl.log" 2>&1 || true
		}
	fi
	if [[ ! -d $KWOK_WORKDIR/clusters/$cluster ]]; then
		say "creating kwok cluster '$cluster' (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok-controller)"
		local stages=(--config "$root/dev/kwokctl.yaml")
		local f
		for f in "$root"/dev/emulator/stages/*.yaml; do
			[[ -f $f ]] && stages+=(--config "$f")
		done
		# --disable-qps-limits: the scheduler and controller-manager take no client rate limit
		# (theirs would pace a burst of submissions) and the API server no in-flight cap; the
		# kwok controller has none of its own.
		"$KWOKCTL" create cluster --name "$cluster" --runtime binary \
			"${stages[@]}" \
			--enable-crds=Logs \
			--disable-qps-limits \
			--etcd-binary "$ETCD" \
			--kube-apiserver-binary "$KUBE_APISERVER" \
			--kube-controller-manager-binary "$KUBE_CONTROLLER_MANAGER" \
			--kube-scheduler-binary "$KUBE_SCHEDULER" \
			--kwok-controller-binary "$KWOK" \
			--kubeconfig "$state/kubeconfig.kwok" \
			--wait 3m >"$state/kwokctl.log" 2>&1 || die "kwokctl create cluster failed: $(tail -n 20 "$state/kwokctl.log")"
	fi
	"$KWOKCTL" get kubeconfig --name "$cluster" >"$state/kubeconfig.tmp"
	mv "$state/kubeconfig.tmp" "$state/kubeconfig"
	export KUBECONFIG=$state/kubeconfig
	wait_for 60 "kube-apiserver" "$state/bin/kindling-devctl" ping
	say "three fake nodes: 8 CPU, 32Gi memory, 110 pods each"
	"$KWOKCTL" scale node --name "$cluster" --replicas "$nodes" \
		--param '.allocatable.cpu=8' --param '.allocatable.memory="32Gi"' --param '.allocatable.pods=110' \
		>>"$state/kwokctl.log" 2>&1 || die "kwokctl scale node failed: $(tail -n 20 "$state/kwokctl.log")"
	wait_for 120 "nodes" "$state/bin/kindling-devctl" nodes-ready "$nodes"
	"$state/bin/kindling-devctl" setup "$root/deploy/crds"
}

up_emulator() {
	if alive "$state/emulator.pid"; then
		say "driver emulator already running (pid $(<"$state/emulator.pid"))"
		return
	fi
	say "starting the driver emulator"
	KUBECONFIG="$state/kubeconfig" start_bg emulator "$state/bin/kindling-emulator" --pod-log-dir "$state/podlogs"
	sleep 1
	alive "$state/emulator.pid" || die "driver emulator exited: $(tail -n 5 "$state/emulator.log")"
}

build_ours() {
	mkdir -p "$state/bin"
	(cd "$root" && go build -o "$state/bin/" ./dev/cmd/...)
}

cmd_up() {
	mkdir -p "$state"
	load_paths all
	build_ours
	up_temporal
	up_cluster
	up_emulator
	cmd_env_text
}

cmd_env_text() {
	cat <<TXT

The local stack is up.
  Temporal      127.0.0.1:$tport   (namespace default)
  Temporal UI   http://127.0.0.1:$uiport
  Kubernetes    kwok cluster '$cluster', $nodes fake nodes
                export KUBECONFIG=$state/kubeconfig
  Logs          $state/*.log   Stop it all: make dev-down
TXT
}

cmd_down() {
	load_paths paths
	stop_pid emulator
	stop_pid worker
	if [[ -x $KWOKCTL && -d $KWOK_WORKDIR/clusters/$cluster ]]; then
		say "deleting kwok cluster '$cluster'"
		"$KWOKCTL" delete cluster --name "$cluster" >>"$state/kwokctl.log" 2>&1 || true
	fi
	stop_pid temporal
	rm -f "$state/kubeconfig"
	say "stopped; Temporal history kept in $state/temporal.db"
}

cmd_status() {
	load_paths paths
	local rc=0
	if alive "$state/temporal.pid" && port_open "$tport"; then
		echo "temporal     up    127.0.0.1:$tport  UI http://127.0.0.1:$uiport  (pid $(<"$state/temporal.pid"))"
	else
		echo "temporal     down"; rc=1
	fi
	if [[ -x $state/bin/kindling-devctl ]] && cluster_running; then
		echo "kubernetes   up    kwok cluster '$cluster'  KUBECONFIG=$state/kubeconfig"
		KUBECONFIG="$state/kubeconfig" "$state/bin/kindling-devctl" nodes | sed 's/^/             /'
	else
		echo "kubernetes   down"; rc=1
	fi
	if alive "$state/emulator.pid"; then
		echo "emulator     up    (pid $(<"$state/emulator.pid"))"
	else
		echo "emulator     down"; rc=1
	fi
	return $rc
}

case ${1:-} in
	up) cmd_up ;;
	down) cmd_down ;;
	status) cmd_status ;;
	env) echo "export KUBECONFIG=$state/kubeconfig TEMPORAL_ADDRESS=127.0.0.1:$tport" ;;
	*) echo "usage: $0 up|down|status|env" >&2; exit 2 ;;
esac
