#!/usr/bin/env bash
# Regenerates what controller-gen writes from k8s/api (run from anywhere):
#   k8s/api/v1beta2/zz_generated.deepcopy.go   DeepCopy and DeepCopyObject methods
#   deploy/crds/sparkoperator.k8s.io_*.yaml     the SparkApplication and ScheduledSparkApplication CRDs
#
# controller-gen is built once from the Go module proxy (this module pins it) into
# ${KINDLING_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kindling/bin}/controller-gen-v0.23.0.
#
# Without descriptions each CRD is about 100 KB as JSON, so plain `kubectl apply` fits its
# last-applied annotation under the API server's 256 KiB limit (the operator's CRDs, about 450 KB,
# need --server-side); k8s/api/v1beta2's TestCRDsFitClientSideApply keeps it so.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
version=v0.23.0
cache=${KINDLING_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kindling/bin}
bin=$cache/controller-gen-$version

say() { printf '[generate] %s\n' "$*" >&2; }

if [[ ! -x $bin ]]; then
	say "building controller-gen $version into $bin"
	mkdir -p "$cache"
	# The version controller-gen writes in the CRDs' annotation controller-gen.kubebuilder.io/version,
	# stamped so it never depends on what the build info says.
	(cd "$here" && CGO_ENABLED=0 go build -trimpath \
		-ldflags "-s -w -X sigs.k8s.io/controller-tools/pkg/version.version=$version" \
		-o "$bin.tmp" sigs.k8s.io/controller-tools/cmd/controller-gen)
	mv "$bin.tmp" "$bin"
fi

cd "$root"
say "deepcopy: k8s/api/..."
"$bin" object paths=./k8s/api/...
say "CRDs: deploy/crds"
mkdir -p deploy/crds
# generateEmbeddedObjectMeta as the operator's Makefile has it: embedded ObjectMetas (a PVC
# template's metadata) keep their labels and annotations instead of being pruned.
"$bin" crd:crdVersions=v1,maxDescLen=0,generateEmbeddedObjectMeta=true paths=./k8s/api/... output:crd:dir=deploy/crds
# The pod templates schemaless, as the operator's markers make them (see crdpatch/main.go).
(cd "$here" && go run ./crdpatch "$root/deploy/crds")
for f in deploy/crds/*.yaml; do say "$f: $(wc -c <"$f") bytes"; done
