package activities

import (
	"context"
	"net/http"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"

	"github.com/kindling-dev/kindling/internal/metrics"
	"github.com/kindling-dev/kindling/k8s/cluster"
)

// Activities holds the dependencies of every activity; one value is registered per worker.
type Activities struct {
	// Cluster holds the clients: Create applies, Cleanup deletes and Supervise reads through it.
	// A named field, not embedded: Temporal would register its methods as activities.
	Cluster cluster.Objects
	Pods    *cluster.PodWatch // the worker's one shared pod informer
	HTTP    *http.Client      // dependency checks
	// WatchNamespace is the one Kubernetes namespace Pods follows; "" for all.
	WatchNamespace string
	// AllowedNamespaces, when set, are the only Kubernetes namespaces jobs may run in:
	// Validate refuses the others before anything is created.
	AllowedNamespaces []string
	// Strict refuses a job whose settings hold what looks like a secret in plain text
	// (render.SecretSettings) instead of letting it run.
	Strict bool
	// Temporal tells the sweep which runs have ended.
	Temporal WorkflowDescriber
	// Metrics counts what the activities see (drivers running, executors, stage durations);
	// nil counts nothing.
	Metrics *metrics.Metrics

	supervisedMu sync.Mutex
	supervised   int // Supervise activities running on this worker
}

// stage records how long an activity took and how it ended, as kindling_stage_duration_seconds.
func (a *Activities) stage(name string, start time.Time, err *error) {
	outcome := "ok"
	if *err != nil {
		outcome = "error"
	}
	a.Metrics.StageDuration(name, outcome, time.Since(start))
}

// logger is the activity's logger (with workflow and activity IDs), or a no-op outside one.
func logger(ctx context.Context) log.Logger {
	if activity.IsActivity(ctx) {
		return activity.GetLogger(ctx) // with tracing on, Temporal's interceptor adds TraceID and SpanID
	}
	return nopLogger{}
}

type nopLogger struct{}

func (nopLogger) Debug(string, ...any) {}
func (nopLogger) Info(string, ...any)  {}
func (nopLogger) Warn(string, ...any)  {}
func (nopLogger) Error(string, ...any) {}

// keepAlive heartbeats every interval until the returned stop is called, for activities whose
// single steps (a slow server's headers, a cluster's deletes) may outlast the heartbeat timeout.
// Outside an activity it does nothing.
func keepAlive(ctx context.Context, interval time.Duration) (stop func()) {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	}()
	return func() { close(done) }
}

// apiTimeout bounds one API call a supervisor makes between heartbeats.
const apiTimeout = 10 * time.Second
