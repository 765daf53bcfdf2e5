package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/kindling-dev/kindling/internal/metrics"
	"github.com/kindling-dev/kindling/workflows"
)

// readiness is what /readyz reports: not ready until the pod watch synced and the worker
// polls Temporal, and again not ready once it stops.
type readiness struct{ why atomic.Value }

func newReadiness() *readiness {
	r := &readiness{}
	r.set("starting: the pod watch has not synced yet")
	return r
}

func (r *readiness) set(why string) { r.why.Store(why) }

// serveHTTP serves /metrics, /healthz (the process answers) and /readyz on addr until ctx ends.
func serveHTTP(ctx context.Context, addr string, m *metrics.Metrics, ready *readiness, profile bool, log *slog.Logger) error {
	mux := http.NewServeMux()
	if profile {
		// Go's profiles (make bench reads the heap's at full scale); off unless asked.
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	}
	mux.Handle("/metrics", m.Handler())
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if why := ready.why.Load().(string); why != "" {
			http.Error(w, why, http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--http-address %s: %w", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server stopped", "error", err)
		}
	}()
	log.Info("serving /metrics, /healthz and /readyz", "address", ln.Addr().String())
	return nil
}

// temporalMetrics is the worker's Temporal metrics handler: the SDK's own metrics go to
// OpenTelemetry, and the job events SparkJob emits become the kubeflow operator's metrics.
func temporalMetrics(m *metrics.Metrics) client.MetricsHandler {
	app := func(tags map[string]string) metrics.App {
		a := metrics.App{Namespace: tags[workflows.MetricTagNamespace], Labels: map[string]string{}}
		for k, v := range tags {
			if name, ok := strings.CutPrefix(k, workflows.MetricTagLabelPrefix); ok {
				a.Labels[name] = v
			}
		}
		return a
	}
	return metrics.Route(m.TemporalHandler(),
		map[string]metrics.CounterFunc{
			workflows.MetricJobCreated:          func(tags map[string]string, _ int64) { m.Created(app(tags)) },
			workflows.MetricJobSubmissionFailed: func(tags map[string]string, _ int64) { m.SubmissionFailed(app(tags)) },
			workflows.MetricOOMRemediation:      func(tags map[string]string, _ int64) { m.OOMRemediation(tags[workflows.MetricTagRole]) },
		},
		map[string]metrics.TimerFunc{
			workflows.MetricJobSubmitted: func(tags map[string]string, d time.Duration) {
				a := app(tags)
				m.Submitted(a)
				m.SubmitLatency(a, tags[workflows.MetricTagAttempt] == "1", d)
			},
			workflows.MetricJobEnded: func(tags map[string]string, d time.Duration) {
				switch tags[workflows.MetricTagState] {
				case workflows.StateCompleted:
					m.Succeeded(app(tags), d)
				case workflows.StateFailed:
					m.Failed(app(tags), d)
				}
			},
		})
}
