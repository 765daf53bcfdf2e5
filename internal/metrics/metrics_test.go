package metrics

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type fixture struct {
	m   *Metrics
	srv *httptest.Server
	log *syncBuffer
}

func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	log := &syncBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m, err := New(cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(func() {
		srv.Close()
		require.NoError(t, m.Shutdown(context.Background()))
	})
	return &fixture{m: m, srv: srv, log: log}
}

// scrape fetches /metrics as a Prometheus server would (classic text format)
// and parses it with legacy (pre-UTF-8) name validation.
func (f *fixture) scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.srv.URL+"/metrics", nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	require.NoError(t, err, "scrape:\n%s", body)
	require.NotContains(t, f.log.String(), "scrape error")
	return fams
}

func labelMap(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, lp := range m.GetLabel() {
		out[lp.GetName()] = lp.GetValue()
	}
	return out
}

func labelNames(m *dto.Metric) []string {
	var out []string
	for _, lp := range m.GetLabel() {
		out = append(out, lp.GetName())
	}
	sort.Strings(out)
	return out
}

// series returns the sample of family name whose labels equal want, or nil.
func series(fams map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	fam, ok := fams[name]
	if !ok {
		return nil
	}
	for _, m := range fam.GetMetric() {
		got := labelMap(m)
		match := true
		for k, v := range want {
			if got[k] != v {
				match = false
			}
		}
		if match && len(got) == len(want) {
			return m
		}
	}
	return nil
}

// value reads a counter or gauge sample (0 when absent) or a summary or
// histogram sample count.
func value(fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	m := series(fams, name, labels)
	if m == nil {
		return 0
	}
	switch {
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Summary != nil:
		return float64(m.GetSummary().GetSampleCount())
	case m.Histogram != nil:
		return float64(m.GetHistogram().GetSampleCount())
	}
	return 0
}

func bounds(h *dto.Histogram) []float64 {
	var out []float64
	for _, b := range h.GetBucket() {
		if !math.IsInf(b.GetUpperBound(), +1) { // the text parser adds the +Inf bucket
			out = append(out, b.GetUpperBound())
		}
	}
	return out
}

// cumulative returns the cumulative count of the bucket with upper bound le.
func cumulative(t *testing.T, h *dto.Histogram, le float64) uint64 {
	t.Helper()
	for _, b := range h.GetBucket() {
		if b.GetUpperBound() == le {
			return b.GetCumulativeCount()
		}
	}
	t.Fatalf("no bucket le=%v in %v", le, bounds(h))
	return 0
}

var (
	batchApp   = App{Namespace: "spark-jobs", Labels: map[string]string{"app_type": "batch", "team": "x"}}
	unknownApp = App{Namespace: "spark-jobs"}
)

func TestOperatorMetricsTypesHelpAndLabels(t *testing.T) {
	f := newFixture(t, Config{})
	m := f.m
	for _, app := range []App{batchApp, unknownApp} {
		m.Created(app)
		m.Submitted(app)
		m.SubmissionFailed(app)
		m.SubmitLatency(app, true, 3*time.Second)
		m.Started(app, true, 45*time.Second)
		m.Running(app, 1)
		m.Succeeded(app, time.Minute)
		m.Failed(app, time.Minute)
		m.ExecutorRunning(app, 1)
		m.ExecutorSucceeded(app)
		m.ExecutorFailed(app)
	}
	fams := f.scrape(t)

	// Name, type and help text as in the operator's
	// internal/metrics/sparkapplication_metrics.go and sparkpod_metrics.go.
	want := []struct {
		name string
		typ  dto.MetricType
		help string
	}{
		{"spark_application_count", dto.MetricType_COUNTER, "Total number of SparkApplication"},
		{"spark_application_submit_count", dto.MetricType_COUNTER, "Total number of submitted SparkApplication"},
		{"spark_application_failed_submission_count", dto.MetricType_COUNTER, "Total number of failed SparkApplication submission"},
		{"spark_application_running_count", dto.MetricType_GAUGE, "Total number of running SparkApplication"},
		{"spark_application_success_count", dto.MetricType_COUNTER, "Total number of successful SparkApplication"},
		{"spark_application_failure_count", dto.MetricType_COUNTER, "Total number of failed SparkApplication"},
		{"spark_application_success_execution_time_seconds", dto.MetricType_SUMMARY, ""},
		{"spark_application_failure_execution_time_seconds", dto.MetricType_SUMMARY, ""},
		{"spark_application_submit_latency_seconds", dto.MetricType_SUMMARY, "Spark App Submit Latency from creation to submitted state"},
		{"spark_application_submit_latency_seconds_histogram", dto.MetricType_HISTOGRAM, "Spark App Submit Latency counts in buckets from creation to submitted state"},
		{"spark_application_start_latency_seconds", dto.MetricType_SUMMARY, "Spark App Start Latency via the Operator"},
		{"spark_application_start_latency_seconds_histogram", dto.MetricType_HISTOGRAM, "Spark App Start Latency counts in buckets via the Operator"},
		{"spark_executor_running_count", dto.MetricType_GAUGE, "Total number of running Spark executors"},
		{"spark_executor_success_count", dto.MetricType_COUNTER, "Total number of successful Spark executors"},
		{"spark_executor_failure_count", dto.MetricType_COUNTER, "Total number of failed Spark executors"},
	}
	for _, w := range want {
		fam, ok := fams[w.name]
		if !assert.True(t, ok, "%s missing from the scrape", w.name) {
			continue
		}
		assert.Equal(t, w.typ, fam.GetType(), w.name)
		assert.Equal(t, w.help, fam.GetHelp(), w.name)
		require.Len(t, fam.GetMetric(), 2, w.name)
		for _, s := range fam.GetMetric() {
			assert.Equal(t, []string{"app_type"}, labelNames(s), w.name)
		}
		assert.NotNil(t, series(fams, w.name, map[string]string{"app_type": "batch"}), "%s{app_type=batch}", w.name)
		assert.NotNil(t, series(fams, w.name, map[string]string{"app_type": "Unknown"}), "%s{app_type=Unknown}", w.name)
		assert.Equal(t, 1.0, value(fams, w.name, map[string]string{"app_type": "batch"}), w.name)
	}
	// No suffix was added to the operator's names.
	for name := range fams {
		if strings.HasPrefix(name, "spark_") {
			assert.False(t, strings.HasSuffix(name, "_total"), name)
		}
	}

	// The operator's histogram buckets.
	submitH := series(fams, "spark_application_submit_latency_seconds_histogram", map[string]string{"app_type": "batch"}).GetHistogram()
	assert.Equal(t, []float64{0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256}, bounds(submitH))
	assert.Equal(t, uint64(0), cumulative(t, submitH, 2))
	assert.Equal(t, uint64(1), cumulative(t, submitH, 4))
	startH := series(fams, "spark_application_start_latency_seconds_histogram", map[string]string{"app_type": "batch"}).GetHistogram()
	assert.Equal(t, []float64{30, 60, 90, 120, 150, 180, 210, 240, 270, 300}, bounds(startH))
	assert.Equal(t, uint64(0), cumulative(t, startH, 30))
	assert.Equal(t, uint64(1), cumulative(t, startH, 60))

	// Summaries carry no quantiles (the operator sets no Objectives), only
	// sum and count, in seconds.
	succ := series(fams, "spark_application_success_execution_time_seconds", map[string]string{"app_type": "batch"}).GetSummary()
	assert.Empty(t, succ.GetQuantile())
	assert.Equal(t, 60.0, succ.GetSampleSum())
	submitS := series(fams, "spark_application_submit_latency_seconds", map[string]string{"app_type": "batch"}).GetSummary()
	assert.Equal(t, 3.0, submitS.GetSampleSum())
}

func TestOperatorEventsMoveByOne(t *testing.T) {
	f := newFixture(t, Config{})
	m := f.m
	batch := map[string]string{"app_type": "batch"}
	cases := []struct {
		event  string
		do     func()
		metric []string // every metric that must move by exactly one
		delta  float64
	}{
		{"Created", func() { m.Created(batchApp) }, []string{"spark_application_count"}, 1},
		{"Submitted", func() { m.Submitted(batchApp) }, []string{"spark_application_submit_count"}, 1},
		{"SubmissionFailed", func() { m.SubmissionFailed(batchApp) }, []string{"spark_application_failed_submission_count"}, 1},
		{"SubmitLatency", func() { m.SubmitLatency(batchApp, true, time.Second) },
			[]string{"spark_application_submit_latency_seconds", "spark_application_submit_latency_seconds_histogram"}, 1},
		{"SubmitLatency retry", func() { m.SubmitLatency(batchApp, false, time.Second) },
			[]string{"spark_application_submit_latency_seconds", "spark_application_submit_latency_seconds_histogram"}, 0},
		{"Started", func() { m.Started(batchApp, true, time.Minute) },
			[]string{"spark_application_start_latency_seconds", "spark_application_start_latency_seconds_histogram"}, 1},
		{"Started retry", func() { m.Started(batchApp, false, time.Minute) },
			[]string{"spark_application_start_latency_seconds", "spark_application_start_latency_seconds_histogram"}, 0},
		{"Running +1", func() { m.Running(batchApp, 1) }, []string{"spark_application_running_count"}, 1},
		{"Running -1", func() { m.Running(batchApp, -1) }, []string{"spark_application_running_count"}, -1},
		{"Succeeded", func() { m.Succeeded(batchApp, time.Minute) },
			[]string{"spark_application_success_count", "spark_application_success_execution_time_seconds"}, 1},
		{"Succeeded unknown time", func() { m.Succeeded(batchApp, 0) }, []string{"spark_application_success_count"}, 1},
		{"Failed", func() { m.Failed(batchApp, time.Minute) },
			[]string{"spark_application_failure_count", "spark_application_failure_execution_time_seconds"}, 1},
		{"ExecutorRunning +1", func() { m.ExecutorRunning(batchApp, 1) }, []string{"spark_executor_running_count"}, 1},
		{"ExecutorRunning -1", func() { m.ExecutorRunning(batchApp, -1) }, []string{"spark_executor_running_count"}, -1},
		{"ExecutorSucceeded", func() { m.ExecutorSucceeded(batchApp) }, []string{"spark_executor_success_count"}, 1},
		{"ExecutorFailed", func() { m.ExecutorFailed(batchApp) }, []string{"spark_executor_failure_count"}, 1},
	}
	all := []string{
		"spark_application_count", "spark_application_submit_count", "spark_application_failed_submission_count",
		"spark_application_running_count", "spark_application_success_count", "spark_application_failure_count",
		"spark_application_success_execution_time_seconds", "spark_application_failure_execution_time_seconds",
		"spark_application_submit_latency_seconds", "spark_application_submit_latency_seconds_histogram",
		"spark_application_start_latency_seconds", "spark_application_start_latency_seconds_histogram",
		"spark_executor_running_count", "spark_executor_success_count", "spark_executor_failure_count",
	}
	for _, c := range cases {
		before := f.scrape(t)
		c.do()
		after := f.scrape(t)
		for _, name := range all {
			want := 0.0
			if slices.Contains(c.metric, name) {
				want = c.delta
			}
			got := value(after, name, batch) - value(before, name, batch)
			assert.Equal(t, want, got, "%s: %s", c.event, name)
		}
	}

	// The unknown-time success observed nothing.
	fams := f.scrape(t)
	assert.Equal(t, 1.0, value(fams, "spark_application_success_execution_time_seconds", batch))

	m.SetRunning(batchApp, 7)
	assert.Equal(t, 7.0, value(f.scrape(t), "spark_application_running_count", batch))
}

func TestOperatorLabelRules(t *testing.T) {
	// Configured names are sanitized like the operator's --metrics-labels.
	f := newFixture(t, Config{Labels: []string{"app-type", "namespace", "team"}})
	f.m.Created(App{Namespace: "ns1", Labels: map[string]string{"app-type": "streaming"}})
	f.m.Created(App{Namespace: "ns2", Labels: map[string]string{"namespace": "from-label", "team": "data"}})
	fams := f.scrape(t)

	fam := fams["spark_application_count"]
	require.NotNil(t, fam)
	for _, s := range fam.GetMetric() {
		assert.Equal(t, []string{"app_type", "namespace", "team"}, labelNames(s))
	}
	// An application label key is sanitized too; namespace falls back to the
	// namespace; any other missing label is "Unknown".
	assert.Equal(t, 1.0, value(fams, "spark_application_count",
		map[string]string{"app_type": "streaming", "namespace": "ns1", "team": "Unknown"}))
	// An application label named "namespace" wins over the namespace, as in
	// the operator's getMetricLabels.
	assert.Equal(t, 1.0, value(fams, "spark_application_count",
		map[string]string{"app_type": "Unknown", "namespace": "from-label", "team": "data"}))
}

func TestLabelConfig(t *testing.T) {
	for _, bad := range [][]string{{"a.b"}, {"app_type", "app-type"}, {"le"}, {"quantile"}, {"__x"}, {""}, {"1a"}} {
		_, err := New(Config{Labels: bad, Logger: slog.New(slog.DiscardHandler)})
		assert.Error(t, err, "%q", bad)
	}

	// A non-nil empty list means no labels at all.
	f := newFixture(t, Config{Labels: []string{}})
	f.m.Created(batchApp)
	fams := f.scrape(t)
	require.Len(t, fams["spark_application_count"].GetMetric(), 1)
	assert.Empty(t, fams["spark_application_count"].GetMetric()[0].GetLabel())
}

func TestBadLabelValueLogsInsteadOfPanicking(t *testing.T) {
	f := newFixture(t, Config{})
	assert.NotPanics(t, func() {
		f.m.Created(App{Labels: map[string]string{"app_type": "\xff"}})
	})
	assert.Contains(t, f.log.String(), "failed to collect metric")
	assert.Nil(t, f.scrape(t)["spark_application_count"])
}

func TestKindlingMetrics(t *testing.T) {
	f := newFixture(t, Config{})
	m := f.m
	m.StageDuration("run", "succeeded", 90*time.Second)
	m.Attempt("succeeded")
	m.OOMRemediation("executor")
	m.SetSupervisedJobs(3)
	m.SetSupervisedPods(12)
	m.Heartbeat()
	fams := f.scrape(t)

	fam := fams["kindling_stage_duration_seconds"]
	require.NotNil(t, fam)
	assert.Equal(t, dto.MetricType_HISTOGRAM, fam.GetType())
	s := series(fams, "kindling_stage_duration_seconds", map[string]string{"stage": "run", "outcome": "succeeded"})
	require.NotNil(t, s)
	b := bounds(s.GetHistogram())
	for _, le := range []float64{1, 10, 60, 300} {
		assert.Contains(t, b, le)
	}
	assert.Equal(t, uint64(0), cumulative(t, s.GetHistogram(), 60))
	assert.Equal(t, uint64(1), cumulative(t, s.GetHistogram(), 120))
	assert.Equal(t, 90.0, s.GetHistogram().GetSampleSum())

	assert.Equal(t, dto.MetricType_COUNTER, fams["kindling_attempts_total"].GetType())
	assert.Equal(t, dto.MetricType_COUNTER, fams["kindling_oom_remediations_total"].GetType())
	assert.Equal(t, dto.MetricType_GAUGE, fams["kindling_supervised_jobs"].GetType())
	assert.Equal(t, dto.MetricType_GAUGE, fams["kindling_supervised_pods"].GetType())
	assert.Equal(t, dto.MetricType_COUNTER, fams["kindling_heartbeats_total"].GetType())

	steps := []struct {
		do     func()
		name   string
		labels map[string]string
		delta  float64
	}{
		{func() { m.Attempt("succeeded") }, "kindling_attempts_total", map[string]string{"outcome": "succeeded"}, 1},
		{func() { m.OOMRemediation("driver") }, "kindling_oom_remediations_total", map[string]string{"role": "driver"}, 1},
		{func() { m.Heartbeat() }, "kindling_heartbeats_total", map[string]string{}, 1},
		{func() { m.StageDuration("run", "succeeded", time.Second) }, "kindling_stage_duration_seconds",
			map[string]string{"stage": "run", "outcome": "succeeded"}, 1},
		{func() { m.SetSupervisedPods(2) }, "kindling_supervised_pods", map[string]string{}, -10},
	}
	for _, st := range steps {
		before := value(f.scrape(t), st.name, st.labels)
		st.do()
		assert.Equal(t, st.delta, value(f.scrape(t), st.name, st.labels)-before, st.name)
	}
	assert.Equal(t, 3.0, value(f.scrape(t), "kindling_supervised_jobs", map[string]string{}))

	m.Attempt("")
	assert.Equal(t, 1.0, value(f.scrape(t), "kindling_attempts_total", map[string]string{"outcome": "unknown"}))
}

func TestGoAndProcessCollectors(t *testing.T) {
	fams := newFixture(t, Config{}).scrape(t)
	assert.Contains(t, fams, "go_goroutines")
	assert.Contains(t, fams, "process_start_time_seconds")
}

func TestTemporalHandler(t *testing.T) {
	f := newFixture(t, Config{})
	h := f.m.TemporalHandler()
	h.Counter("temporal_workflow_completed").Inc(1)
	h.WithTags(map[string]string{"task_queue": "kindling"}).Counter("temporal_workflow_completed").Inc(1)
	h.Timer("temporal_activity_execution_latency").Record(2 * time.Second)
	h.Gauge("temporal_worker_task_slots_available").Update(5)
	fams := f.scrape(t)

	completed, ok := fams["temporal_workflow_completed_total"]
	require.True(t, ok, "temporal_workflow_completed_total missing")
	assert.Equal(t, dto.MetricType_COUNTER, completed.GetType())
	assert.NotContains(t, fams, "temporal_workflow_completed")
	total := 0.0
	for _, s := range completed.GetMetric() {
		total += s.GetCounter().GetValue()
	}
	assert.Equal(t, 2.0, total)

	lat, ok := fams["temporal_activity_execution_latency_seconds"]
	require.True(t, ok, "temporal_activity_execution_latency_seconds missing")
	assert.Equal(t, dto.MetricType_HISTOGRAM, lat.GetType())
	require.Len(t, lat.GetMetric(), 1)
	hist := lat.GetMetric()[0].GetHistogram()
	assert.Equal(t, uint64(1), hist.GetSampleCount())
	assert.Equal(t, 2.0, hist.GetSampleSum())
	b := bounds(hist)
	require.NotEmpty(t, b)
	// Second-scale: a 2 s observation is not in the first bucket, and lands
	// in the first bucket at or above 2.
	assert.Less(t, b[0], 2.0)
	assert.Equal(t, uint64(0), hist.GetBucket()[0].GetCumulativeCount())
	assert.Equal(t, uint64(0), cumulative(t, hist, 1))
	assert.Equal(t, uint64(1), cumulative(t, hist, 2.5))
	for _, le := range []float64{1, 10, 60, 300} {
		assert.Contains(t, b, le)
	}

	gauge, ok := fams["temporal_worker_task_slots_available"]
	require.True(t, ok)
	assert.Equal(t, dto.MetricType_GAUGE, gauge.GetType())
}

func TestTemporalHandlerOnErrorLogs(t *testing.T) {
	f := newFixture(t, Config{})
	h := f.m.TemporalHandler()
	// Invalid OpenTelemetry instrument names make the meter return an error,
	// which the contrib handler passes to OnError (default: panic).
	assert.NotPanics(t, func() {
		h.Counter("bad name").Inc(1)
		h.Timer("0bad").Record(time.Second)
		h.Gauge("bad gauge!").Update(1)
	})
	logged := f.log.String()
	assert.Contains(t, logged, "OpenTelemetry instrument error")
	assert.Contains(t, logged, "bad name")
	assert.Contains(t, logged, "0bad")
	// The scrape still works.
	f.scrape(t)
}

func TestLogOnError(t *testing.T) {
	var buf syncBuffer
	fn := logOnError(slog.New(slog.NewTextHandler(&buf, nil)))
	assert.NotPanics(t, func() { fn(errors.New("boom")) })
	assert.Contains(t, buf.String(), "level=ERROR")
	assert.Contains(t, buf.String(), "boom")
}

func TestNilMetrics(t *testing.T) {
	var m *Metrics
	assert.NotPanics(t, func() {
		m.Created(batchApp)
		m.Submitted(batchApp)
		m.SubmissionFailed(batchApp)
		m.SubmitLatency(batchApp, true, time.Second)
		m.Started(batchApp, true, time.Second)
		m.Running(batchApp, 1)
		m.SetRunning(batchApp, 1)
		m.Succeeded(batchApp, time.Second)
		m.Failed(batchApp, time.Second)
		m.ExecutorRunning(batchApp, 1)
		m.ExecutorSucceeded(batchApp)
		m.ExecutorFailed(batchApp)
		m.StageDuration("run", "ok", time.Second)
		m.Attempt("ok")
		m.OOMRemediation("driver")
		m.SetSupervisedJobs(1)
		m.SetSupervisedPods(1)
		m.Heartbeat()
		h := m.TemporalHandler()
		require.NotNil(t, h)
		h.Counter("temporal_workflow_completed").Inc(1)
		h.Timer("temporal_activity_execution_latency").Record(time.Second)
		assert.Nil(t, m.Registry())
		assert.NoError(t, m.Shutdown(context.Background()))
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		assert.Equal(t, http.StatusNotFound, rec.Code)
	})
}

func TestTwoInstancesDoNotConflict(t *testing.T) {
	a := newFixture(t, Config{})
	b := newFixture(t, Config{})
	a.m.Created(batchApp)
	assert.Equal(t, 1.0, value(a.scrape(t), "spark_application_count", map[string]string{"app_type": "batch"}))
	assert.Equal(t, 0.0, value(b.scrape(t), "spark_application_count", map[string]string{"app_type": "batch"}))
}
