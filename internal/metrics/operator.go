package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The kubeflow Spark operator's metric names (pkg/common/metrics.go), with
// the operator's default empty --metrics-prefix.
const (
	MetricSparkApplicationCount                         = "spark_application_count"
	MetricSparkApplicationSubmitCount                   = "spark_application_submit_count"
	MetricSparkApplicationFailedSubmissionCount         = "spark_application_failed_submission_count"
	MetricSparkApplicationRunningCount                  = "spark_application_running_count"
	MetricSparkApplicationSuccessCount                  = "spark_application_success_count"
	MetricSparkApplicationFailureCount                  = "spark_application_failure_count"
	MetricSparkApplicationSuccessExecutionTimeSeconds   = "spark_application_success_execution_time_seconds"
	MetricSparkApplicationFailureExecutionTimeSeconds   = "spark_application_failure_execution_time_seconds"
	MetricSparkApplicationSubmitLatencySeconds          = "spark_application_submit_latency_seconds"
	MetricSparkApplicationSubmitLatencySecondsHistogram = "spark_application_submit_latency_seconds_histogram"
	MetricSparkApplicationStartLatencySeconds           = "spark_application_start_latency_seconds"
	MetricSparkApplicationStartLatencySecondsHistogram  = "spark_application_start_latency_seconds_histogram"

	MetricSparkExecutorRunningCount = "spark_executor_running_count"
	MetricSparkExecutorSuccessCount = "spark_executor_success_count"
	MetricSparkExecutorFailureCount = "spark_executor_failure_count"
)

// Histogram buckets, in seconds: the operator's defaults for
// --metrics-job-submit-latency-buckets and --metrics-job-start-latency-buckets
// (cmd/operator/controller/start.go; the chart's values.yaml has the same).
var (
	JobSubmitLatencyBuckets = []float64{0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256}
	JobStartLatencyBuckets  = []float64{30, 60, 90, 120, 150, 180, 210, 240, 270, 300}
)

// App identifies the Spark application an operator-named metric event is
// about; only its label values are used.
type App struct {
	// Namespace is the application's Kubernetes namespace: the value of the
	// "namespace" metric label unless Labels has a "namespace" key.
	Namespace string
	// Labels are the application's Kubernetes labels. For executor events,
	// the operator reads the executor pod's labels, which carry the
	// application's labels, so the application's labels are right there too.
	Labels map[string]string
}

// operatorCollectors mirrors the operator's SparkApplicationMetrics
// (internal/metrics/sparkapplication_metrics.go) and SparkExecutorMetrics
// (internal/metrics/sparkpod_metrics.go): same names, types, help texts
// (the two execution-time summaries have none there either) and buckets.
type operatorCollectors struct {
	count                 *prometheus.CounterVec
	submitCount           *prometheus.CounterVec
	failedSubmissionCount *prometheus.CounterVec
	runningCount          *prometheus.GaugeVec
	successCount          *prometheus.CounterVec
	failureCount          *prometheus.CounterVec

	successExecutionTimeSeconds *prometheus.SummaryVec
	failureExecutionTimeSeconds *prometheus.SummaryVec

	submitLatencySeconds          *prometheus.SummaryVec
	submitLatencySecondsHistogram *prometheus.HistogramVec
	startLatencySeconds           *prometheus.SummaryVec
	startLatencySecondsHistogram  *prometheus.HistogramVec

	executorRunningCount *prometheus.GaugeVec
	executorSuccessCount *prometheus.CounterVec
	executorFailureCount *prometheus.CounterVec
}

func newOperatorCollectors(labels []string) operatorCollectors {
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	gauge := func(name, help string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	}
	summary := func(name, help string) *prometheus.SummaryVec {
		// The operator sets no Objectives: count and sum only.
		return prometheus.NewSummaryVec(prometheus.SummaryOpts{Name: name, Help: help}, labels)
	}
	histogram := func(name, help string, buckets []float64) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: name, Help: help, Buckets: append([]float64(nil), buckets...),
		}, labels)
	}
	return operatorCollectors{
		count:                 counter(MetricSparkApplicationCount, "Total number of SparkApplication"),
		submitCount:           counter(MetricSparkApplicationSubmitCount, "Total number of submitted SparkApplication"),
		failedSubmissionCount: counter(MetricSparkApplicationFailedSubmissionCount, "Total number of failed SparkApplication submission"),
		runningCount:          gauge(MetricSparkApplicationRunningCount, "Total number of running SparkApplication"),
		successCount:          counter(MetricSparkApplicationSuccessCount, "Total number of successful SparkApplication"),
		failureCount:          counter(MetricSparkApplicationFailureCount, "Total number of failed SparkApplication"),

		successExecutionTimeSeconds: summary(MetricSparkApplicationSuccessExecutionTimeSeconds, ""),
		failureExecutionTimeSeconds: summary(MetricSparkApplicationFailureExecutionTimeSeconds, ""),

		submitLatencySeconds: summary(MetricSparkApplicationSubmitLatencySeconds,
			"Spark App Submit Latency from creation to submitted state"),
		submitLatencySecondsHistogram: histogram(MetricSparkApplicationSubmitLatencySecondsHistogram,
			"Spark App Submit Latency counts in buckets from creation to submitted state", JobSubmitLatencyBuckets),
		startLatencySeconds: summary(MetricSparkApplicationStartLatencySeconds,
			"Spark App Start Latency via the Operator"),
		startLatencySecondsHistogram: histogram(MetricSparkApplicationStartLatencySecondsHistogram,
			"Spark App Start Latency counts in buckets via the Operator", JobStartLatencyBuckets),

		executorRunningCount: gauge(MetricSparkExecutorRunningCount, "Total number of running Spark executors"),
		executorSuccessCount: counter(MetricSparkExecutorSuccessCount, "Total number of successful Spark executors"),
		executorFailureCount: counter(MetricSparkExecutorFailureCount, "Total number of failed Spark executors"),
	}
}

func (o operatorCollectors) collectors() []prometheus.Collector {
	return []prometheus.Collector{
		o.count, o.submitCount, o.failedSubmissionCount, o.runningCount, o.successCount, o.failureCount,
		o.successExecutionTimeSeconds, o.failureExecutionTimeSeconds,
		o.submitLatencySeconds, o.submitLatencySecondsHistogram,
		o.startLatencySeconds, o.startLatencySecondsHistogram,
		o.executorRunningCount, o.executorSuccessCount, o.executorFailureCount,
	}
}

// labelsFor is the operator's getMetricLabels: application label keys are
// sanitized ("-" to "_"); a configured label present among them takes that
// value, else "namespace" takes the namespace, else the value is "Unknown".
func (m *Metrics) labelsFor(app App) prometheus.Labels {
	valid := make(map[string]string, len(app.Labels))
	for k, v := range app.Labels {
		valid[sanitizeLabel(k)] = v
	}
	out := make(prometheus.Labels, len(m.labels))
	for _, l := range m.labels {
		if v, ok := valid[l]; ok {
			out[l] = v
		} else if l == "namespace" {
			out[l] = app.Namespace
		} else {
			out[l] = "Unknown"
		}
	}
	return out
}

// The vec types all have GetMetricWith(prometheus.Labels) (T, error).
type vec[T any] interface {
	GetMetricWith(prometheus.Labels) (T, error)
}

// child returns the series of v for app, logging (as the operator does)
// instead of panicking when the label values are unusable (e.g. not UTF-8).
func child[T any](m *Metrics, v vec[T], metric string, app App) (T, bool) {
	labels := m.labelsFor(app)
	c, err := v.GetMetricWith(labels)
	if err != nil {
		m.logger.Error("failed to collect metric", "metric", metric, "labels", labels,
			"namespace", app.Namespace, "error", err)
		var zero T
		return zero, false
	}
	return c, true
}

// Created counts a new application in spark_application_count. The operator
// increments it once per SparkApplication, when it enters the New state; a
// Kindling job should call it once per job (workflow), not per attempt.
func (m *Metrics) Created(app App) {
	if m == nil {
		return
	}
	if c, ok := child(m, m.op.count, MetricSparkApplicationCount, app); ok {
		c.Inc()
	}
}

// Submitted counts a submission in spark_application_submit_count. The
// operator increments it every time the application enters Submitted, so
// once per submission attempt (retries included). For Kindling: when an
// attempt's driver pod has been created.
func (m *Metrics) Submitted(app App) {
	if m == nil {
		return
	}
	if c, ok := child(m, m.op.submitCount, MetricSparkApplicationSubmitCount, app); ok {
		c.Inc()
	}
}

// SubmissionFailed counts a failed submission in
// spark_application_failed_submission_count (operator state
// FailedSubmission; for Kindling: an attempt whose driver pod could not be
// created).
func (m *Metrics) SubmissionFailed(app App) {
	if m == nil {
		return
	}
	if c, ok := child(m, m.op.failedSubmissionCount, MetricSparkApplicationFailedSubmissionCount, app); ok {
		c.Inc()
	}
}

// SubmitLatency observes latency in the summary
// spark_application_submit_latency_seconds and the histogram
// spark_application_submit_latency_seconds_histogram (JobSubmitLatencyBuckets).
// The operator measures from the application's creation to the Submitted
// state and observes only when submissionAttempts == 1, so nothing is
// recorded unless firstAttempt is true. For Kindling: from the workflow's
// start to the first attempt's driver pod creation.
func (m *Metrics) SubmitLatency(app App, firstAttempt bool, latency time.Duration) {
	if m == nil || !firstAttempt {
		return
	}
	if o, ok := child(m, m.op.submitLatencySeconds, MetricSparkApplicationSubmitLatencySeconds, app); ok {
		o.Observe(latency.Seconds())
	}
	if o, ok := child(m, m.op.submitLatencySecondsHistogram, MetricSparkApplicationSubmitLatencySecondsHistogram, app); ok {
		o.Observe(latency.Seconds())
	}
}

// Started records that the driver is running: it observes latency in the
// summary spark_application_start_latency_seconds and the histogram
// spark_application_start_latency_seconds_histogram (JobStartLatencyBuckets).
// The operator measures from the application's creation (not from
// submission) to the Running state and observes only when
// executionAttempts == 1, so nothing is recorded unless firstAttempt is true.
// For Kindling: from the workflow's start to the first attempt's driver
// running. Started does not touch spark_application_running_count; the
// operator increments it on entering Running and decrements it on leaving
// Running, which the caller does with Running(app, +1) / Running(app, -1).
func (m *Metrics) Started(app App, firstAttempt bool, latency time.Duration) {
	if m == nil || !firstAttempt {
		return
	}
	if o, ok := child(m, m.op.startLatencySeconds, MetricSparkApplicationStartLatencySeconds, app); ok {
		o.Observe(latency.Seconds())
	}
	if o, ok := child(m, m.op.startLatencySecondsHistogram, MetricSparkApplicationStartLatencySecondsHistogram, app); ok {
		o.Observe(latency.Seconds())
	}
}

// Running adds delta to the gauge spark_application_running_count: +1 when a
// driver starts running, -1 when it stops running (whatever the next state,
// and also when a running application is deleted), as the operator does.
func (m *Metrics) Running(app App, delta int) {
	if m == nil || delta == 0 {
		return
	}
	if g, ok := child(m, m.op.runningCount, MetricSparkApplicationRunningCount, app); ok {
		g.Add(float64(delta))
	}
}

// SetRunning sets spark_application_running_count for app's label values to
// n, for a caller that counts running jobs periodically (e.g. a visibility
// CountWorkflow) instead of tracking transitions with Running.
func (m *Metrics) SetRunning(app App, n int) {
	if m == nil {
		return
	}
	if g, ok := child(m, m.op.runningCount, MetricSparkApplicationRunningCount, app); ok {
		g.Set(float64(n))
	}
}

// Succeeded counts a completed application in spark_application_success_count
// and observes executionTime in the summary
// spark_application_success_execution_time_seconds. The operator's execution
// time is terminationTime - lastSubmissionAttemptTime, i.e. the final
// attempt's submission to its end. An executionTime <= 0 means unknown: the
// counter still moves, nothing is observed (the operator likewise skips the
// observation when either time is missing).
func (m *Metrics) Succeeded(app App, executionTime time.Duration) {
	if m == nil {
		return
	}
	if c, ok := child(m, m.op.successCount, MetricSparkApplicationSuccessCount, app); ok {
		c.Inc()
	}
	if executionTime <= 0 {
		return
	}
	if o, ok := child(m, m.op.successExecutionTimeSeconds, MetricSparkApplicationSuccessExecutionTimeSeconds, app); ok {
		o.Observe(executionTime.Seconds())
	}
}

// Failed counts a failed application in spark_application_failure_count and
// observes executionTime in the summary
// spark_application_failure_execution_time_seconds, with the same rules as
// Succeeded. The operator counts the Failed state, which is final (after
// retries), so call it once per job, not per failed attempt.
func (m *Metrics) Failed(app App, executionTime time.Duration) {
	if m == nil {
		return
	}
	if c, ok := child(m, m.op.failureCount, MetricSparkApplicationFailureCount, app); ok {
		c.Inc()
	}
	if executionTime <= 0 {
		return
	}
	if o, ok := child(m, m.op.failureExecutionTimeSeconds, MetricSparkApplicationFailureExecutionTimeSeconds, app); ok {
		o.Observe(executionTime.Seconds())
	}
}

// ExecutorRunning adds delta to the gauge spark_executor_running_count: +1
// when an executor pod enters phase Running, -1 when it leaves Running or is
// deleted while Running.
func (m *Metrics) ExecutorRunning(app App, delta int) {
	if m == nil || delta == 0 {
		return
	}
	if g, ok := child(m, m.op.executorRunningCount, MetricSparkExecutorRunningCount, app); ok {
		g.Add(float64(delta))
	}
}

// ExecutorSucceeded counts an executor pod that reached phase Succeeded in
// spark_executor_success_count.
func (m *Metrics) ExecutorSucceeded(app App) {
	if m == nil {
		return
	}
	if c, ok := child(m, m.op.executorSuccessCount, MetricSparkExecutorSuccessCount, app); ok {
		c.Inc()
	}
}

// ExecutorFailed counts an executor pod that reached phase Failed in
// spark_executor_failure_count.
func (m *Metrics) ExecutorFailed(app App) {
	if m == nil {
		return
	}
	if c, ok := child(m, m.op.executorFailureCount, MetricSparkExecutorFailureCount, app); ok {
		c.Inc()
	}
}
