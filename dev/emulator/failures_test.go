package emulator

import (
	"math"
	"testing"
	"time"
)

func TestFailureLimitFromConf(t *testing.T) {
	tests := []struct {
		name, version string
		props         map[string]string
		want          ExecutorFailureLimit
	}{
		{"before Spark 3.5 there is none", "3.4.3", map[string]string{"spark.executor.maxNumFailures": "1"}, ExecutorFailureLimit{}},
		{"instances unset: at least 3", "3.5.3", nil, ExecutorFailureLimit{Enabled: true, Max: 3}},
		{"twice the instances", "3.5.3", map[string]string{"spark.executor.instances": "5"}, ExecutorFailureLimit{Enabled: true, Max: 10}},
		{"set", "4.0.1", map[string]string{"spark.executor.instances": "5", "spark.executor.maxNumFailures": "1"}, ExecutorFailureLimit{Enabled: true, Max: 1}},
		{"dynamic allocation without a maximum", "4.0.1", map[string]string{"spark.dynamicAllocation.enabled": "true"}, ExecutorFailureLimit{Enabled: true, Max: math.MaxInt32}},
		{"dynamic allocation maximum", "4.0.1", map[string]string{"spark.dynamicAllocation.enabled": "true", "spark.dynamicAllocation.maxExecutors": "4"}, ExecutorFailureLimit{Enabled: true, Max: 8}},
		{"3.5 only with the direct allocator", "3.5.3", map[string]string{"spark.kubernetes.allocation.pods.allocator": "statefulset"}, ExecutorFailureLimit{}},
		{"4.0 with any allocator", "4.0.1", map[string]string{"spark.kubernetes.allocation.pods.allocator": "statefulset"}, ExecutorFailureLimit{Enabled: true, Max: 3}},
		{"validity in minutes", "4.0.1", map[string]string{"spark.executor.failuresValidityInterval": "10min"}, ExecutorFailureLimit{Enabled: true, Max: 3, Validity: 10 * time.Minute}},
		{"validity without unit is ms", "4.0.1", map[string]string{"spark.executor.failuresValidityInterval": "500"}, ExecutorFailureLimit{Enabled: true, Max: 3, Validity: 500 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := executorFailureLimit(driverOn(tt.version), Properties(tt.props))
			if err != nil {
				t.Fatalf("executorFailureLimit: %v", err)
			}
			if got != tt.want {
				t.Errorf("limit = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// Spark gives up when the failures exceed the limit, counting only those within the
// validity interval when one is set.
func TestFailureLimitExceeded(t *testing.T) {
	now := time.Now()
	failures := []time.Time{now.Add(-2 * time.Minute), now.Add(-30 * time.Second)}
	if l := (ExecutorFailureLimit{Enabled: true, Max: 2}); l.Exceeded(failures, now) {
		t.Errorf("2 failures exceed maxNumFailures 2; Spark gives up only past it")
	}
	if l := (ExecutorFailureLimit{Enabled: true, Max: 1}); !l.Exceeded(failures, now) {
		t.Errorf("2 failures do not exceed maxNumFailures 1")
	}
	if l := (ExecutorFailureLimit{Enabled: true, Max: 1, Validity: time.Minute}); l.Exceeded(failures, now) {
		t.Errorf("a failure older than the 1m validity interval counted")
	}
	if l := (ExecutorFailureLimit{Max: 0}); l.Exceeded(failures, now) {
		t.Errorf("a limit that is not enabled gave up")
	}
}
