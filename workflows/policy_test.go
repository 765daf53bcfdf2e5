package workflows

import (
	"testing"
	"time"

	"github.com/kindling-dev/kindling/k8s/job"
)

func i32(v int32) *int32 { return &v }
func i64(v int64) *int64 { return &v }

func TestNextAttemptMatchesOperator(t *testing.T) {
	onFailure := job.RestartPolicy{Type: job.RestartOnFailure,
		OnFailureRetries: i32(2), OnFailureRetryInterval: i64(10),
		OnSubmissionFailureRetries: i32(1), OnSubmissionFailureRetryInterval: i64(20)}
	always := job.RestartPolicy{Type: job.RestartAlways, OnFailureRetryInterval: i64(10), OnSubmissionFailureRetryInterval: i64(20)}
	for _, tc := range []struct {
		name   string
		policy job.RestartPolicy
		end    attemptEnd
		counts restartCounts
		again  bool
		wait   time.Duration
	}{
		{"empty type is Never", job.RestartPolicy{OnFailureRetries: i32(3)}, endRunFailed, restartCounts{runFailures: 1}, false, 0},
		{"Never after failure", job.RestartPolicy{Type: job.RestartNever}, endRunFailed, restartCounts{runFailures: 1}, false, 0},
		{"Never after submission failure", job.RestartPolicy{Type: job.RestartNever}, endSubmissionFailed, restartCounts{submissionFailures: 1}, false, 0},
		{"OnFailure first failure", onFailure, endRunFailed, restartCounts{runFailures: 1}, true, 10 * time.Second},
		{"OnFailure last retry", onFailure, endRunFailed, restartCounts{runFailures: 2}, true, 10 * time.Second},
		{"OnFailure retries used up", onFailure, endRunFailed, restartCounts{runFailures: 3}, false, 0},
		{"OnFailure after success", onFailure, endSucceeded, restartCounts{runFailures: 1}, false, 0},
		{"OnFailure submission retry", onFailure, endSubmissionFailed, restartCounts{submissionFailures: 1}, true, 20 * time.Second},
		{"OnFailure submission retries used up", onFailure, endSubmissionFailed, restartCounts{submissionFailures: 2}, false, 0},
		{"OnFailure submission retries ignore run failures", onFailure, endSubmissionFailed, restartCounts{runFailures: 2, submissionFailures: 1}, true, 20 * time.Second},
		{"Always after success, at once", always, endSucceeded, restartCounts{}, true, 0},
		{"Always after failure", always, endRunFailed, restartCounts{runFailures: 50}, true, 10 * time.Second},
		{"Always after submission failure", always, endSubmissionFailed, restartCounts{submissionFailures: 50}, true, 20 * time.Second},
		{"Always without intervals", job.RestartPolicy{Type: job.RestartAlways}, endRunFailed, restartCounts{runFailures: 1}, true, DefaultRetryInterval},
		{"render failure is final even with Always", always, endNotRetryable, restartCounts{}, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			again, wait := nextAttempt(tc.policy, tc.end, tc.counts)
			if again != tc.again || wait != tc.wait {
				t.Fatalf("nextAttempt = (%v, %v), want (%v, %v)", again, wait, tc.again, tc.wait)
			}
		})
	}
}

func TestRaiseOverhead(t *testing.T) {
	for _, tc := range []struct{ prev, first, want int64 }{
		{384, 384, 576},
		{385, 385, 578}, // ceil(577.5)
		{1296, 384, 1536},
		{1536, 384, 1536},
		{0, 0, 0},
	} {
		if got := raiseOverhead(tc.prev, tc.first); got != tc.want {
			t.Errorf("raiseOverhead(%d, %d) = %d, want %d", tc.prev, tc.first, got, tc.want)
		}
	}
}

func TestTTL(t *testing.T) {
	for _, tc := range []struct {
		ttl   *int64
		state string
		want  time.Duration
	}{
		{nil, StateCompleted, 0},
		{nil, StateFailed, time.Hour},
		{i64(0), StateFailed, 0},
		{i64(90), StateCompleted, 90 * time.Second},
		{i64(-5), StateFailed, 0},
	} {
		s := job.JobSpec{}
		s.TimeToLiveSeconds = tc.ttl
		if got := ttlFor(s, tc.state); got != tc.want {
			t.Errorf("ttlFor(%v, %s) = %v, want %v", tc.ttl, tc.state, got, tc.want)
		}
	}
}
