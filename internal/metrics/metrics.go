// Package metrics holds the Prometheus metrics that a Kindling process (the
// worker, later the controller) serves on /metrics.
//
// Everything lives on one Kindling-owned [prometheus.Registry]:
//
//   - The kubeflow Spark operator's metric names, types, help texts, label
//     rules and histogram buckets, copied exactly (see operator.go), so
//     dashboards and alerts written for the operator keep working. They are
//     plain client_golang collectors, so no suffix such as _total is added.
//   - Kindling's own kindling_* metrics (see kindling.go).
//   - The Temporal Go SDK's metrics, through an OpenTelemetry MeterProvider
//     whose Prometheus exporter is registered on the same registry
//     (see [Metrics.TemporalHandler]).
//   - The Go runtime and process collectors.
//
// A nil *Metrics is valid: every method is then a no-op, so activities can run
// in tests without metrics.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"
	"github.com/prometheus/otlptranslator"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
)

// DefaultLabels is the operator's default metric label set (the chart's
// prometheus.metrics.labels defaults to "app_type").
var DefaultLabels = []string{"app_type"}

// TemporalMeterName is the OpenTelemetry instrumentation scope of the Temporal
// SDK's metrics (the same name the contrib package uses for the global meter).
const TemporalMeterName = "temporal-sdk-go"

// TemporalLatencyBuckets are the histogram boundaries, in seconds, given to
// every OpenTelemetry histogram with unit "s" (all Temporal SDK timers:
// temporal_*_latency). The OTel SDK default boundaries (0, 5, 10, …, 10000)
// are meant for milliseconds and would put every Temporal latency in the
// first buckets. The range covers sub-millisecond RPCs up to the end-to-end
// latency of multi-hour Spark workflows.
var TemporalLatencyBuckets = []float64{
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
	1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 28800, 86400,
}

// Config configures [New].
type Config struct {
	// Labels are the label names of the operator-named spark_* metrics, as
	// the operator's --metrics-labels flag. A nil slice means
	// DefaultLabels (["app_type"]); a non-nil empty slice means no labels.
	// As in the operator, "-" in a name is replaced with "_". Each label's
	// value comes from the application's Kubernetes label of that
	// (sanitized) name; if the application has no such label, "namespace"
	// takes the application's namespace and any other label takes "Unknown".
	Labels []string
	// Logger receives metric errors (bad label values, OpenTelemetry
	// instrument errors reported by the Temporal handler, scrape errors).
	// Nil means slog.Default().
	Logger *slog.Logger
}

// Metrics is the set of Kindling's metrics. Create it with [New]. The zero
// value is not usable, but a nil *Metrics is: all its methods do nothing.
type Metrics struct {
	logger   *slog.Logger
	registry *prometheus.Registry
	provider *sdkmetric.MeterProvider
	temporal client.MetricsHandler

	labels []string // sanitized operator label names

	op  operatorCollectors
	own kindlingCollectors
}

// New creates the registry, the operator-named collectors, Kindling's own
// collectors, the Go and process collectors, and an OpenTelemetry
// MeterProvider whose Prometheus exporter is registered on the same
// registry. It fails if a label name is invalid or duplicated, or if a
// collector cannot be registered.
func New(cfg Config) (*Metrics, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger = logger.With("component", "metrics")

	labels, err := sanitizeLabels(cfg.Labels)
	if err != nil {
		return nil, err
	}

	m := &Metrics{
		logger:   logger,
		registry: prometheus.NewRegistry(),
		labels:   labels,
		op:       newOperatorCollectors(labels),
		own:      newKindlingCollectors(),
	}

	cs := []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	}
	cs = append(cs, m.op.collectors()...)
	cs = append(cs, m.own.collectors()...)
	for _, c := range cs {
		if err := m.registry.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: register collector: %w", err)
		}
	}

	exporter, err := otelprom.New(
		otelprom.WithRegisterer(m.registry),
		// Prometheus-style names: dots escaped to underscores, unit suffix
		// (_seconds) and _total on monotonic counters. Set explicitly because
		// the exporter's default depends on the global name validation scheme
		// and is announced to change.
		otelprom.WithTranslationStrategy(otlptranslator.UnderscoreEscapingWithSuffixes),
	)
	if err != nil {
		return nil, fmt.Errorf("metrics: create OpenTelemetry Prometheus exporter: %w", err)
	}
	m.provider = sdkmetric.NewMeterProvider(
		sdkmetric.WithReader(exporter),
		sdkmetric.WithView(secondsHistogramView()),
	)
	m.temporal = temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter:                m.provider.Meter(TemporalMeterName),
		UseMonotonicCounters: true,
		OnError:              logOnError(logger),
	})
	return m, nil
}

// secondsHistogramView gives every histogram instrument whose unit is "s"
// (the Temporal contrib handler creates each Timer as a Float64Histogram with
// unit "s") the second-scale TemporalLatencyBuckets.
func secondsHistogramView() sdkmetric.View {
	return sdkmetric.NewView(
		sdkmetric.Instrument{Kind: sdkmetric.InstrumentKindHistogram, Unit: "s"},
		sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{
			Boundaries: append([]float64(nil), TemporalLatencyBuckets...),
		}},
	)
}

// logOnError is the Temporal metrics handler's OnError callback. The contrib
// package's default panics; this one logs and lets the SDK fall back to a
// no-op instrument.
func logOnError(logger *slog.Logger) func(error) {
	return func(err error) {
		logger.Error("temporal metrics handler: OpenTelemetry instrument error", "error", err)
	}
}

// sanitizeLabels applies the operator's CreateValidMetricNameLabel ("-" to
// "_") and rejects names Prometheus would not accept.
func sanitizeLabels(in []string) ([]string, error) {
	if in == nil {
		in = DefaultLabels
	}
	out := make([]string, 0, len(in))
	seen := make(map[string]bool, len(in))
	for _, l := range in {
		name := sanitizeLabel(l)
		if !model.LegacyValidation.IsValidLabelName(name) || strings.HasPrefix(name, "__") {
			return nil, fmt.Errorf("metrics: invalid label name %q", l)
		}
		switch name {
		case "le", "quantile":
			return nil, fmt.Errorf("metrics: label name %q is reserved for histograms and summaries", l)
		}
		if seen[name] {
			return nil, fmt.Errorf("metrics: duplicate label name %q", l)
		}
		seen[name] = true
		out = append(out, name)
	}
	return out, nil
}

// sanitizeLabel is the operator's util.CreateValidMetricNameLabel("", name).
func sanitizeLabel(name string) string {
	return strings.ReplaceAll(name, "-", "_")
}

// Handler serves the registry in the Prometheus exposition formats. A
// collector failing during a scrape is logged and the rest is still served.
// On a nil *Metrics it answers 404.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		ErrorLog:      promLogger{m.logger},
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      m.registry,
	})
}

// TemporalHandler is the value for client.Options.MetricsHandler. It creates
// OpenTelemetry instruments on Kindling's MeterProvider: counters are
// monotonic (exported as COUNTER name_total), timers are histograms in
// seconds (name_seconds with TemporalLatencyBuckets), gauges are gauges.
// Instrument errors are logged, never panicked on. On a nil *Metrics it
// returns client.MetricsNopHandler.
func (m *Metrics) TemporalHandler() client.MetricsHandler {
	if m == nil {
		return client.MetricsNopHandler
	}
	return m.temporal
}

// Registry returns the registry behind Handler, for callers that want to add
// collectors. Nil on a nil *Metrics.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.registry
}

// Shutdown shuts the OpenTelemetry MeterProvider down; Temporal instruments
// stop recording afterwards. The client_golang collectors are unaffected.
func (m *Metrics) Shutdown(ctx context.Context) error {
	if m == nil || m.provider == nil {
		return nil
	}
	if err := m.provider.Shutdown(ctx); err != nil && !errors.Is(err, sdkmetric.ErrReaderShutdown) {
		return err
	}
	return nil
}

// promLogger adapts slog to promhttp.Logger.
type promLogger struct{ l *slog.Logger }

func (p promLogger) Println(v ...any) {
	p.l.Error("metrics scrape error", "error", strings.TrimSuffix(fmt.Sprintln(v...), "\n"))
}
