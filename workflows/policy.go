package workflows

import (
	"time"

	"github.com/kindling-dev/kindling/k8s/job"
)

// attemptEnd is how an attempt ended, as the restart policy sees it.
type attemptEnd int

const (
	endSucceeded        attemptEnd = iota
	endRunFailed                   // the driver ran and failed (or Supervise gave up)
	endSubmissionFailed            // CreateResources failed for good
	endNotRetryable                // render failed: the same spec would fail again
)

// restartCounts are the failures so far, this one included.
type restartCounts struct {
	runFailures        int
	submissionFailures int
}

// nextAttempt applies the operator's restartPolicy (spark-operator's ShouldRetry and
// TimeUntilNextRetryDue) to the end of an attempt: whether to start another, and after how long.
//
//   - Never: no attempt after the first, whatever happened.
//   - OnFailure: after a run failure while runFailures <= onFailureRetries; after a submission
//     failure while submissionFailures <= onSubmissionFailureRetries; a nil count means none.
//   - Always: again after success (at once, as the operator does) and after any failure.
//
// Where Kindling differs from the operator, on purpose:
//   - The operator counts onSubmissionFailureRetries against every submission of the
//     application, successful ones too; Kindling counts failed submissions only, so a job that
//     ran twice still has all its submission retries.
//   - The operator waits interval × submissions-so-far measured from the last submission (for
//     a run longer than that, no wait at all); Kindling waits the interval, as the API
//     documents it, from the end of the failed attempt, on a durable timer.
//   - Always is bounded by MaxAttempts per workflow run, so history stays bounded.
func nextAttempt(p job.RestartPolicy, end attemptEnd, n restartCounts) (bool, time.Duration) {
	switch end {
	case endNotRetryable:
		return false, 0
	case endSucceeded:
		return p.Type == job.RestartAlways, 0
	case endRunFailed:
		switch p.Type {
		case job.RestartAlways:
			return true, interval(p.OnFailureRetryInterval)
		case job.RestartOnFailure:
			if p.OnFailureRetries != nil && n.runFailures <= int(*p.OnFailureRetries) {
				return true, interval(p.OnFailureRetryInterval)
			}
		}
	case endSubmissionFailed:
		switch p.Type {
		case job.RestartAlways:
			return true, interval(p.OnSubmissionFailureRetryInterval)
		case job.RestartOnFailure:
			if p.OnSubmissionFailureRetries != nil && n.submissionFailures <= int(*p.OnSubmissionFailureRetries) {
				return true, interval(p.OnSubmissionFailureRetryInterval)
			}
		}
	}
	return false, 0
}

func interval(seconds *int64) time.Duration {
	if seconds == nil || *seconds < 0 {
		return DefaultRetryInterval
	}
	return time.Duration(*seconds) * time.Second
}

// raiseOverhead is the memory overhead for the attempt after an OOMKill: ceil(prev × 1.5),
// at most OOMOverheadMaxMultiple × first (the first attempt's overhead).
func raiseOverhead(prev, first int64) int64 {
	next := (prev*OOMOverheadFactorNum + OOMOverheadFactorDen - 1) / OOMOverheadFactorDen
	if limit := first * OOMOverheadMaxMultiple; first > 0 && next > limit {
		next = limit
	}
	if next < prev {
		next = prev
	}
	return next
}

// ttlFor is how long a finished job's last objects stay: the spec's timeToLiveSeconds when
// set, else nothing on success and DefaultFailureTTL on failure.
func ttlFor(spec job.JobSpec, state string) time.Duration {
	if spec.TimeToLiveSeconds != nil {
		if *spec.TimeToLiveSeconds <= 0 {
			return 0
		}
		return time.Duration(*spec.TimeToLiveSeconds) * time.Second
	}
	if state == StateCompleted {
		return 0
	}
	return DefaultFailureTTL
}
