#!/usr/bin/env bash
# Builds the local stack's servers from the Go module proxy, once, into a cache outside
# the checkout keyed by version. A binary already in the cache is never rebuilt.
#
#   KINDLING_BIN_CACHE   where binaries go (default ~/.cache/kindling/bin)
#
#   dev/build-tools.sh [all|temporal|kube|etcd|kwok|paths]
#
# Progress goes to stderr; stdout gets one NAME=path line per binary (dev/stack.sh reads
# them). `paths` builds nothing and only prints them.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${KINDLING_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kindling/bin}

TEMPORAL_CLI_VERSION=v1.5.1
KUBE_VERSION=v1.37.2
ETCD_VERSION=v3.7.0
KWOK_VERSION=v0.8.0

# Builds share one Go build cache; a fresh machine needs it too, so keep Go's default.
export CGO_ENABLED=0
export GOFLAGS=${GOFLAGS:--buildvcs=false}

say() { printf '[build] %s\n' "$*" >&2; }

# timed NAME CMD…: runs CMD and says how long NAME took (a fresh machine's first build is
# long; the figures say where the time goes).
built=()
timed() {
	local name=$1 start=$SECONDS; shift
	"$@"
	local took=$((SECONDS - start))
	built+=("$name $((took / 60))m$((took % 60))s")
	say "$name built in $((took / 60))m$((took % 60))s"
}

need() { # need NAME VERSION BINARY… → true when any binary is missing
	local dir="$cache/$1-$2"; shift 2
	local b
	for b in "$@"; do [[ -x "$dir/$b" ]] || return 0; done
	return 1
}

build_temporal() {
	local dir="$cache/temporal-$TEMPORAL_CLI_VERSION"
	if need temporal "$TEMPORAL_CLI_VERSION" temporal; then
		say "temporal CLI $TEMPORAL_CLI_VERSION (github.com/temporalio/cli) — about 3 minutes on 2 cores"
		mkdir -p "$dir.tmp"
		# -s -w: test equipment needs no debug information, and linking without it is quicker.
		GOBIN="$dir.tmp" timed "temporal CLI" go install -trimpath -ldflags "-s -w" "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"
		rm -rf "$dir"; mv "$dir.tmp" "$dir"
	fi
}

build_kube() {
	local dir="$cache/kubernetes-$KUBE_VERSION" v=${KUBE_VERSION#v}
	if need kubernetes "$KUBE_VERSION" kube-apiserver kube-controller-manager kube-scheduler; then
		local major=${v%%.*} rest=${v#*.}
		local minor=${rest%%.*}
		# kwokctl reads `kube-apiserver --version` to pick its flags, so stamp the real version.
		local ld="-s -w"
		local pkg
		for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
			ld+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
			ld+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
		done
		mkdir -p "$dir.tmp"
		say "kube-apiserver, kube-controller-manager, kube-scheduler $KUBE_VERSION (k8s.io/kubernetes) in one go build — the longest part, about 15 minutes on 2 cores"
		# One build: the three share most of their packages, compiled once and in parallel.
		timed "kube-apiserver, kube-controller-manager, kube-scheduler" go -C "$here/tools/kube" build -trimpath -ldflags "$ld" -o "$dir.tmp/" \
			k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler
		rm -rf "$dir"; mv "$dir.tmp" "$dir"
	fi
}

build_etcd() {
	local dir="$cache/etcd-$ETCD_VERSION"
	if need etcd "$ETCD_VERSION" etcd; then
		say "etcd $ETCD_VERSION (go.etcd.io/etcd/server/v3) — about 2 minutes"
		mkdir -p "$dir.tmp"
		timed etcd go -C "$here/tools/etcd" build -trimpath -ldflags "-s -w" -o "$dir.tmp/etcd" .
		rm -rf "$dir"; mv "$dir.tmp" "$dir"
	fi
}

build_kwok() {
	local dir="$cache/kwok-$KWOK_VERSION" kv=${KUBE_VERSION#v}
	if need kwok "$KWOK_VERSION" kwok kwokctl; then
		say "kwok and kwokctl $KWOK_VERSION (sigs.k8s.io/kwok) — about 3 minutes"
		mkdir -p "$dir.tmp"
		local ld="-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v} -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=$kv"
		GOBIN="$dir.tmp" timed "kwok, kwokctl" go install -trimpath -ldflags "$ld" \
			"sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK_VERSION"
		rm -rf "$dir"; mv "$dir.tmp" "$dir"
	fi
}

only=${1:-all}
began=$SECONDS
case "$only" in
	all) build_temporal; build_etcd; build_kwok; build_kube ;;
	temporal) build_temporal ;;
	kube) build_kube ;;
	etcd) build_etcd ;;
	kwok) build_kwok ;;
	paths) ;;
	*) echo "usage: $0 [all|temporal|kube|etcd|kwok|paths]" >&2; exit 2 ;;
esac
if ((${#built[@]} > 0)); then
	total=$((SECONDS - began))
	say "built: $(IFS=';'; echo "${built[*]}" | sed 's/;/; /g'); $((total / 60))m$((total % 60))s in all"
fi

cat <<PATHS
TEMPORAL=$cache/temporal-$TEMPORAL_CLI_VERSION/temporal
ETCD=$cache/etcd-$ETCD_VERSION/etcd
KUBE_APISERVER=$cache/kubernetes-$KUBE_VERSION/kube-apiserver
KUBE_CONTROLLER_MANAGER=$cache/kubernetes-$KUBE_VERSION/kube-controller-manager
KUBE_SCHEDULER=$cache/kubernetes-$KUBE_VERSION/kube-scheduler
KWOK=$cache/kwok-$KWOK_VERSION/kwok
KWOKCTL=$cache/kwok-$KWOK_VERSION/kwokctl
KUBE_VERSION=$KUBE_VERSION
PATHS
