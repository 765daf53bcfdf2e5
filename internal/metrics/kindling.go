package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Kindling's own metric names.
const (
	MetricStageDuration   = "kindling_stage_duration_seconds"
	MetricAttempts        = "kindling_attempts_total"
	MetricOOMRemediations = "kindling_oom_remediations_total"
	MetricSupervisedJobs  = "kindling_supervised_jobs"
	MetricSupervisedPods  = "kindling_supervised_pods"
	MetricHeartbeats      = "kindling_heartbeats_total"
	unknownLabelValue     = "unknown"
)

// StageDurationBuckets are the boundaries, in seconds, of
// kindling_stage_duration_seconds: from sub-second API calls to multi-hour
// Spark runs.
var StageDurationBuckets = []float64{
	0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 86400,
}

type kindlingCollectors struct {
	stageDuration  *prometheus.HistogramVec
	attempts       *prometheus.CounterVec
	oomRemediation *prometheus.CounterVec
	supervisedJobs prometheus.Gauge
	supervisedPods prometheus.Gauge
	heartbeats     prometheus.Counter
}

func newKindlingCollectors() kindlingCollectors {
	return kindlingCollectors{
		stageDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    MetricStageDuration,
			Help:    "Duration of a Kindling job stage, by stage and outcome.",
			Buckets: append([]float64(nil), StageDurationBuckets...),
		}, []string{"stage", "outcome"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricAttempts,
			Help: "Spark job attempts finished, by outcome.",
		}, []string{"outcome"}),
		oomRemediation: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricOOMRemediations,
			Help: "Out-of-memory remediations applied to a retry, by role (driver or executor).",
		}, []string{"role"}),
		supervisedJobs: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: MetricSupervisedJobs,
			Help: "Spark jobs this process currently supervises.",
		}),
		supervisedPods: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: MetricSupervisedPods,
			Help: "Spark pods this process currently supervises.",
		}),
		heartbeats: prometheus.NewCounter(prometheus.CounterOpts{
			Name: MetricHeartbeats,
			Help: "Activity heartbeats sent.",
		}),
	}
}

func (k kindlingCollectors) collectors() []prometheus.Collector {
	return []prometheus.Collector{
		k.stageDuration, k.attempts, k.oomRemediation, k.supervisedJobs, k.supervisedPods, k.heartbeats,
	}
}

// orUnknown keeps an empty label value from producing an empty series label.
func orUnknown(s string) string {
	if s == "" {
		return unknownLabelValue
	}
	return s
}

// StageDuration observes d (in seconds) in the histogram
// kindling_stage_duration_seconds{stage, outcome} (StageDurationBuckets). An
// empty stage or outcome is recorded as "unknown".
func (m *Metrics) StageDuration(stage, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	o, err := m.own.stageDuration.GetMetricWithLabelValues(orUnknown(stage), orUnknown(outcome))
	if err != nil {
		m.logger.Error("failed to collect metric", "metric", MetricStageDuration, "stage", stage, "outcome", outcome, "error", err)
		return
	}
	o.Observe(d.Seconds())
}

// Attempt counts one finished attempt in kindling_attempts_total{outcome}. An
// empty outcome is recorded as "unknown".
func (m *Metrics) Attempt(outcome string) {
	if m == nil {
		return
	}
	c, err := m.own.attempts.GetMetricWithLabelValues(orUnknown(outcome))
	if err != nil {
		m.logger.Error("failed to collect metric", "metric", MetricAttempts, "outcome", outcome, "error", err)
		return
	}
	c.Inc()
}

// OOMRemediation counts one out-of-memory remediation in
// kindling_oom_remediations_total{role}; role is "driver" or "executor"
// (not checked; an empty role is recorded as "unknown").
func (m *Metrics) OOMRemediation(role string) {
	if m == nil {
		return
	}
	c, err := m.own.oomRemediation.GetMetricWithLabelValues(orUnknown(role))
	if err != nil {
		m.logger.Error("failed to collect metric", "metric", MetricOOMRemediations, "role", role, "error", err)
		return
	}
	c.Inc()
}

// SetSupervisedJobs sets the gauge kindling_supervised_jobs.
func (m *Metrics) SetSupervisedJobs(n int) {
	if m == nil {
		return
	}
	m.own.supervisedJobs.Set(float64(n))
}

// SetSupervisedPods sets the gauge kindling_supervised_pods.
func (m *Metrics) SetSupervisedPods(n int) {
	if m == nil {
		return
	}
	m.own.supervisedPods.Set(float64(n))
}

// Heartbeat counts one activity heartbeat in kindling_heartbeats_total.
func (m *Metrics) Heartbeat() {
	if m == nil {
		return
	}
	m.own.heartbeats.Inc()
}
