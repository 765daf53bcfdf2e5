// Package cluster is the cluster side of a job: the Kubernetes clients, the idempotent apply
// of an attempt's rendered objects, the one shared pod watch a worker supervises through, the
// outcome of a driver and its executors, and deletion. It knows nothing of Temporal, so a
// workflow's activities, a controller or a session can all use it.
package cluster
