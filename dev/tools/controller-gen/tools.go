//go:build tools

// Package tools pins controller-gen, which writes k8s/api's DeepCopy methods and the CRDs in
// deploy/crds (see generate.sh).
package tools

import (
	_ "sigs.k8s.io/controller-tools/cmd/controller-gen"
)
