package e2e

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/kindling-dev/kindling/k8s/job"
)

// After one job that succeeds and one that fails, the worker's /metrics shows what a
// Prometheus server and the operator's dashboards expect: the operator's counters moved by
// exactly one each, Temporal's counters as counters, latencies in second-scale buckets.
func TestWorkerMetricsCountEachJobOnce(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	queue := "kindling-e2e-metrics-" + uuid.NewString()[:8]
	newOwnWorker(t, queue, "KINDLING_HTTP_ADDRESS="+addr)
	appType := "e2e-metrics-" + uuid.NewString()[:6]
	var runs []string
	for _, exit := range []string{"0", "3"} {
		spec := testJob(t, map[string]string{"emulator.kindling.dev/duration": "1s", "emulator.kindling.dev/exit-code": exit}, func(s *job.JobSpec) {
			s.Labels = map[string]string{"app_type": appType}
		})
		run := start(t, spec, queue)
		runs = append(runs, run.GetID())
		if _, err := result(t, run, 3*time.Minute); err != nil && exit == "0" {
			t.Fatal(err)
		}
	}

	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz: %d %s", code, body)
	}
	var families map[string]*dto.MetricFamily
	// The failed job's end is counted when its workflow task completes: wait for it.
	waitFor(t, 30*time.Second, "the failed job to be counted", func() bool {
		_, body := get("/metrics")
		parser := expfmt.NewTextParser(model.UTF8Validation)
		var err error
		families, err = parser.TextToMetricFamilies(strings.NewReader(body))
		if err != nil {
			t.Fatalf("/metrics is not Prometheus text: %v", err)
		}
		return value(families, "spark_application_failure_count", appType) == 1
	})
	for name, want := range map[string]float64{
		"spark_application_count":                   2,
		"spark_application_submit_count":            2,
		"spark_application_success_count":           1,
		"spark_application_failure_count":           1,
		"spark_application_running_count":           0,
		"spark_application_failed_submission_count": 0,
	} {
		if got := value(families, name, appType); got != want {
			t.Errorf("%s{app_type=%q} = %v, want %v (jobs %v)", name, appType, got, want, runs)
		}
	}
	if f := families["spark_application_running_count"]; f == nil || f.GetType() != dto.MetricType_GAUGE || !hasSample(f, appType) {
		t.Errorf("spark_application_running_count has no gauge for app_type %s (the drivers ran): %v", appType, f)
	}
	if f := families["spark_application_start_latency_seconds"]; f == nil || len(f.GetMetric()) == 0 || f.GetMetric()[0].GetSummary().GetSampleCount() == 0 {
		t.Errorf("no driver start was observed in spark_application_start_latency_seconds: %v", f)
	}
	if f := families["spark_application_success_execution_time_seconds"]; f == nil || f.GetType() != dto.MetricType_SUMMARY {
		t.Errorf("spark_application_success_execution_time_seconds: %v", f)
	}
	if f := families["temporal_workflow_completed_total"]; f == nil || f.GetType() != dto.MetricType_COUNTER {
		t.Errorf("temporal_workflow_completed_total is not a counter: %v", f)
	}
	for _, name := range []string{"kindling_stage_duration_seconds", "temporal_activity_execution_latency_seconds"} {
		f := families[name]
		if f == nil || f.GetType() != dto.MetricType_HISTOGRAM || len(f.GetMetric()) == 0 {
			t.Errorf("%s is not a histogram with samples: %v", name, f)
			continue
		}
		var bounds []float64
		for _, b := range f.GetMetric()[0].GetHistogram().GetBucket() {
			bounds = append(bounds, b.GetUpperBound())
		}
		if !slices.Contains(bounds, 1) || !slices.Contains(bounds, 60) {
			t.Errorf("%s buckets %v are not second-scale", name, bounds)
		}
	}
	if v := value(families, "kindling_attempts_total", ""); v < 2 {
		t.Errorf("kindling_attempts_total = %v, want at least the two attempts", v)
	}
}

// hasSample tells whether a family has a sample labelled app_type=appType.
func hasSample(f *dto.MetricFamily, appType string) bool {
	for _, m := range f.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "app_type" && l.GetValue() == appType {
				return true
			}
		}
	}
	return false
}

// value sums a family's samples whose app_type label is appType ("" for any).
func value(families map[string]*dto.MetricFamily, name, appType string) float64 {
	var sum float64
	for _, m := range families[name].GetMetric() {
		match := appType == ""
		for _, l := range m.GetLabel() {
			if l.GetName() == "app_type" && l.GetValue() == appType {
				match = true
			}
		}
		if !match {
			continue
		}
		switch {
		case m.GetCounter() != nil:
			sum += m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			sum += m.GetGauge().GetValue()
		}
	}
	return sum
}
