package controller

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	enumspb "go.temporal.io/api/enums/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kindling-dev/kindling/activities"
	"github.com/kindling-dev/kindling/k8s/api/v1beta2"
	"github.com/kindling-dev/kindling/workflows"
)

var (
	created = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	now     = created.Add(5*time.Minute + 700*time.Millisecond) // truncated to the second when written
	closed  = created.Add(9*time.Minute + 400*time.Millisecond)
	earlier = created.Add(2 * time.Minute)
	timeEq  = cmp.Comparer(func(a, b metav1.Time) bool { return a.Equal(&b) })
)

type st = v1beta2.SparkApplicationStatus
type as = v1beta2.ApplicationState

func mt(t time.Time) metav1.Time { return metav1.NewTime(t.Truncate(time.Second)) }

// driverPod is the run's driver, with the labels the operator and Kindling put on it.
func driverPod(phase corev1.PodPhase, attempt string, cs ...corev1.ContainerStatus) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "etl-driver", CreationTimestamp: metav1.NewTime(created), Labels: map[string]string{
			"sparkoperator.k8s.io/submission-id": "sub-1", "spark-app-selector": "spark-abc", "kindling.dev/attempt": attempt,
		}},
		Status: corev1.PodStatus{Phase: phase, ContainerStatuses: cs},
	}
}

func exited(name string, code int32, reason string) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason}}}
}

// fromDriver is the status read from driverPod(…, "1") in state s.
func fromDriver(s v1beta2.ApplicationStateType, msg string, end metav1.Time) st {
	return st{
		SparkApplicationID: "spark-abc", SubmissionID: "sub-1", LastSubmissionAttemptTime: metav1.NewTime(created),
		DriverInfo: v1beta2.DriverInfo{PodName: "etl-driver"}, AppState: as{State: s, ErrorMessage: msg},
		TerminationTime: end, ExecutionAttempts: 1, SubmissionAttempts: 1,
	}
}

var (
	openRun     = Run{ID: "wf", Found: true, Open: true}
	running     = fromDriver(v1beta2.ApplicationStateRunning, "", metav1.Time{})
	submittedSt = st{AppState: as{State: v1beta2.ApplicationStateSubmitted}, DriverInfo: v1beta2.DriverInfo{PodName: "etl-driver"}}
	failing     = fromDriver(v1beta2.ApplicationStateFailing, "driver container failed with ExitCode: 1, Reason: Error", mt(earlier))
)

func with(s st, f func(*st)) st { s = *s.DeepCopy(); f(&s); return s }

func TestNextStatusOpenRun(t *testing.T) {
	failedMsg := "driver container failed with ExitCode: 1, Reason: Error"
	// Between attempts the last attempt's app id and ending go, as the operator resets them.
	rerun := with(fromDriver(v1beta2.ApplicationStatePendingRerun, "", metav1.Time{}), func(s *st) { s.SparkApplicationID = "" })
	tests := []struct {
		name string
		prev st
		obs  Observed
		want st
	}{
		{"driver pending is SUBMITTED, identifiers from its labels", submittedSt,
			Observed{Run: openRun, Driver: driverPod(corev1.PodPending, "1")}, fromDriver(v1beta2.ApplicationStateSubmitted, "", metav1.Time{})},
		{"driver running is RUNNING", submittedSt,
			Observed{Run: openRun, Driver: driverPod(corev1.PodRunning, "1")}, running},
		{"driver succeeded is SUCCEEDING with terminationTime", running,
			Observed{Run: openRun, Driver: driverPod(corev1.PodSucceeded, "1", exited("spark-kubernetes-driver", 0, "Completed"))},
			fromDriver(v1beta2.ApplicationStateSucceeding, "", mt(now))},
		{"driver failed is FAILING with the driver container's exit, not a sidecar's", running,
			Observed{Run: openRun, Driver: driverPod(corev1.PodFailed, "1", exited("istio-proxy", 137, "OOMKilled"), exited("spark-kubernetes-driver", 1, "Error"))},
			fromDriver(v1beta2.ApplicationStateFailing, failedMsg, mt(now))},
		{"driver failed without a driver container status", running,
			Observed{Run: openRun, Driver: driverPod(corev1.PodFailed, "1", exited("istio-proxy", 2, "Error"))},
			fromDriver(v1beta2.ApplicationStateFailing, "driver container status missing", mt(now))},
		{"driver phase Unknown keeps the last state, never UNKNOWN", running,
			Observed{Run: openRun, Driver: driverPod(corev1.PodUnknown, "1")}, running},
		{"no driver and no live status keeps the last state", running, Observed{Run: openRun}, running},
		{"no driver while supervising keeps the last state", running,
			Observed{Run: openRun, Live: &workflows.Status{Stage: workflows.StageSupervising, Attempt: 1}}, running},
		{"no driver, first attempt being created, keeps SUBMITTED", submittedSt,
			Observed{Run: openRun, Live: &workflows.Status{Stage: workflows.StageCreating, Attempt: 1}}, submittedSt},
		{"waiting to retry is PENDING_RERUN, terminationTime cleared", failing,
			Observed{Run: openRun, Live: &workflows.Status{Stage: workflows.StageWaitingRetry, Attempt: 1}},
			rerun},
		{"cleaning up after an attempt is PENDING_RERUN", failing,
			Observed{Run: openRun, Live: &workflows.Status{Stage: workflows.StageCleaningUp, Attempt: 1}},
			rerun},
		{"creating a second attempt is PENDING_RERUN", failing,
			Observed{Run: openRun, Live: &workflows.Status{Stage: workflows.StageCreating, Attempt: 2}},
			rerun},
		{"a retry after a failed create is SUBMISSION_FAILED with the reason", failing,
			Observed{Run: openRun, Live: &workflows.Status{Stage: workflows.StageWaitingRetry, Attempt: 1, LastReason: "submission failed: create driver pod: forbidden"}},
			with(rerun, func(s *st) {
				s.AppState = as{State: v1beta2.ApplicationStateFailedSubmission, ErrorMessage: "submission failed: create driver pod: forbidden"}
			})},
		{"attempt label raises both attempt counters", running,
			Observed{Run: openRun, Driver: driverPod(corev1.PodRunning, "3")},
			with(running, func(s *st) { s.ExecutionAttempts, s.SubmissionAttempts = 3, 3 })},
		{"a bad attempt label leaves the counters", with(running, func(s *st) { s.ExecutionAttempts, s.SubmissionAttempts = 2, 2 }),
			Observed{Run: openRun, Driver: driverPod(corev1.PodRunning, "x")},
			with(running, func(s *st) { s.ExecutionAttempts, s.SubmissionAttempts = 2, 2 })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := NextStatus(tc.prev, tc.obs, now)
			if d := cmp.Diff(tc.want, got, timeEq); d != "" {
				t.Errorf("NextStatus (-want +got):\n%s", d)
			}
		})
	}
}

func TestNextStatusClosedRun(t *testing.T) {
	closedRun := func(s enumspb.WorkflowExecutionStatus, res *workflows.JobResult, failure string) Run {
		return Run{ID: "wf", Found: true, Status: s, CloseTime: closed, Result: res, Failure: failure}
	}
	const (
		completed = enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED
		failed    = enumspb.WORKFLOW_EXECUTION_STATUS_FAILED
		canceled  = enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED
	)
	oom := &workflows.JobResult{Reason: "the driver ran out of memory"}
	state := func(s v1beta2.ApplicationStateType, msg string, end metav1.Time) st {
		return with(running, func(x *st) { x.AppState, x.TerminationTime = as{State: s, ErrorMessage: msg}, end })
	}
	tests := []struct {
		name string
		prev st
		obs  Observed
		want st
	}{
		{"completed: COMPLETED at the close time", running, Observed{Run: closedRun(completed, nil, "")},
			state(v1beta2.ApplicationStateCompleted, "", mt(closed))},
		{"completed keeps the SUCCEEDING terminationTime",
			with(running, func(s *st) { s.AppState.State, s.TerminationTime = v1beta2.ApplicationStateSucceeding, mt(earlier) }),
			Observed{Run: closedRun(completed, nil, "")}, state(v1beta2.ApplicationStateCompleted, "", mt(earlier))},
		{"failed: the failed driver's message first", running,
			Observed{Run: closedRun(failed, oom, "x"), Driver: driverPod(corev1.PodFailed, "1", exited("spark-kubernetes-driver", 143, "Error"))},
			state(v1beta2.ApplicationStateFailed, "driver container failed with ExitCode: 143, Reason: Error", mt(closed))},
		{"failed: else the result's reason", running, Observed{Run: closedRun(failed, oom, "x")},
			state(v1beta2.ApplicationStateFailed, "the driver ran out of memory", mt(closed))},
		{"failed: else the failure's message", running, Observed{Run: closedRun(failed, nil, "invalid spec: no image")},
			state(v1beta2.ApplicationStateFailed, "invalid spec: no image", mt(closed))},
		{"failed: else a fixed message", running, Observed{Run: closedRun(failed, nil, "")},
			state(v1beta2.ApplicationStateFailed, "the Spark application failed", mt(closed))},
		{"canceled for suspend: SUSPENDED, no terminationTime", running,
			Observed{Run: closedRun(canceled, nil, ""), Suspended: true}, state(v1beta2.ApplicationStateSuspended, "", metav1.Time{})},
		{"canceled otherwise: FAILED with the result's reason", running, Observed{Run: closedRun(canceled, oom, "")},
			state(v1beta2.ApplicationStateFailed, "the driver ran out of memory", mt(closed))},
		{"canceled otherwise: FAILED, cancelled", running, Observed{Run: closedRun(canceled, nil, "")},
			state(v1beta2.ApplicationStateFailed, "the run was cancelled", mt(closed))},
		{"terminated: FAILED", running, Observed{Run: closedRun(enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED, nil, "")},
			state(v1beta2.ApplicationStateFailed, "the run was terminated in Temporal", mt(closed))},
		{"timed out: FAILED", running, Observed{Run: closedRun(enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT, nil, "")},
			state(v1beta2.ApplicationStateFailed, "the run timed out", mt(closed))},
		{"run not found: status unchanged", running, Observed{Run: Run{ID: "wf"}}, running},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := NextStatus(tc.prev, tc.obs, now)
			if d := cmp.Diff(tc.want, got, timeEq); d != "" {
				t.Errorf("NextStatus (-want +got):\n%s", d)
			}
		})
	}
}

func TestNextStatusTerminationTimeSetOnce(t *testing.T) {
	obs := Observed{Run: openRun, Driver: driverPod(corev1.PodSucceeded, "1", exited("spark-kubernetes-driver", 0, "Completed"))}
	s := NextStatus(running, obs, now)
	s = NextStatus(s, obs, now.Add(time.Minute))
	s = NextStatus(s, Observed{Run: Run{ID: "wf", Found: true, Status: enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, CloseTime: closed}}, closed)
	if s.AppState.State != v1beta2.ApplicationStateCompleted || !s.TerminationTime.Equal(ptrTime(mt(now))) {
		t.Errorf("got %s at %v, want COMPLETED at the first terminal observation %v", s.AppState.State, s.TerminationTime, mt(now))
	}
}

func ptrTime(t metav1.Time) *metav1.Time { return &t }

func TestNextStatusAttemptsFromResult(t *testing.T) {
	res := &workflows.JobResult{AppID: "spark-result", Attempts: []workflows.AttemptResult{
		{Attempt: 1, Outcome: activities.ErrSubmission}, {Attempt: 2, Outcome: activities.OutcomeAppFailed}, {Attempt: 3, Outcome: activities.OutcomeSucceeded},
	}}
	run := Run{ID: "wf", Found: true, Status: enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, CloseTime: closed, Result: res}
	got := NextStatus(submittedSt, Observed{Run: run}, now)
	if got.SubmissionAttempts != 3 || got.ExecutionAttempts != 2 || got.SparkApplicationID != "spark-result" {
		t.Errorf("got submissionAttempts %d, executionAttempts %d, sparkApplicationId %q; want 3, 2, spark-result",
			got.SubmissionAttempts, got.ExecutionAttempts, got.SparkApplicationID)
	}
	// The driver's app id wins over the result's.
	got = NextStatus(with(submittedSt, func(s *st) { s.SparkApplicationID = "spark-driver" }), Observed{Run: run}, now)
	if got.SparkApplicationID != "spark-driver" {
		t.Errorf("sparkApplicationId = %q, want the driver's spark-driver", got.SparkApplicationID)
	}
	// An open run's result (none yet) does not count.
	open := run
	open.Open = true
	if got := NextStatus(submittedSt, Observed{Run: open}, now); got.SubmissionAttempts != 0 || got.ExecutionAttempts != 0 {
		t.Errorf("open run: attempts %d/%d, want 0/0", got.SubmissionAttempts, got.ExecutionAttempts)
	}
}

func TestNextStatusAttemptsAfterSubmissionFailureWithDriver(t *testing.T) {
	res := &workflows.JobResult{Attempts: []workflows.AttemptResult{{Attempt: 1, Outcome: activities.ErrSubmission}, {Attempt: 2, Outcome: activities.OutcomeSucceeded}}}
	run := Run{ID: "wf", Found: true, Status: enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, CloseTime: closed, Result: res}
	got := NextStatus(submittedSt, Observed{Run: run, Driver: driverPod(corev1.PodSucceeded, "2")}, now)
	if got.SubmissionAttempts != 2 || got.ExecutionAttempts != 1 {
		t.Errorf("attempts submission %d execution %d, want 2 and 1", got.SubmissionAttempts, got.ExecutionAttempts)
	}
}

func execPods(phases ...corev1.PodPhase) []corev1.Pod {
	var out []corev1.Pod
	for i, p := range phases {
		out = append(out, corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("exec-%d", i+1)}, Status: corev1.PodStatus{Phase: p}})
	}
	return out
}

func TestNextStatusExecutorState(t *testing.T) {
	type es = map[string]v1beta2.ExecutorState
	gone := es{"old-run": "RUNNING", "old-pend": "PENDING", "old-ok": "COMPLETED", "old-bad": "FAILED"}
	closedAs := func(s enumspb.WorkflowExecutionStatus) Run {
		return Run{ID: "wf", Found: true, Status: s, CloseTime: closed}
	}
	tests := []struct {
		name string
		prev es
		obs  Observed
		want es
	}{
		{"each executor pod's phase", nil, Observed{Run: openRun, Driver: driverPod(corev1.PodRunning, "1"),
			Executors: execPods(corev1.PodPending, corev1.PodRunning, corev1.PodSucceeded, corev1.PodFailed, corev1.PodUnknown)},
			es{"exec-1": "PENDING", "exec-2": "RUNNING", "exec-3": "COMPLETED", "exec-4": "FAILED", "exec-5": "UNKNOWN"}},
		{"a live pod overrides its last state", es{"exec-1": "PENDING"}, Observed{Run: openRun, Executors: execPods(corev1.PodRunning)},
			es{"exec-1": "RUNNING"}},
		{"vanished while running: UNKNOWN, terminal ones kept", gone, Observed{Run: openRun, Driver: driverPod(corev1.PodRunning, "1")},
			es{"old-run": "UNKNOWN", "old-pend": "UNKNOWN", "old-ok": "COMPLETED", "old-bad": "FAILED"}},
		{"vanished after COMPLETED: COMPLETED", gone, Observed{Run: closedAs(enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED)},
			es{"old-run": "COMPLETED", "old-pend": "COMPLETED", "old-ok": "COMPLETED", "old-bad": "FAILED"}},
		{"vanished while SUCCEEDING: COMPLETED", gone, Observed{Run: openRun, Driver: driverPod(corev1.PodSucceeded, "1")},
			es{"old-run": "COMPLETED", "old-pend": "COMPLETED", "old-ok": "COMPLETED", "old-bad": "FAILED"}},
		{"vanished after FAILED: FAILED", gone, Observed{Run: closedAs(enumspb.WORKFLOW_EXECUTION_STATUS_FAILED)},
			es{"old-run": "FAILED", "old-pend": "FAILED", "old-ok": "COMPLETED", "old-bad": "FAILED"}},
		{"vanished while FAILING: FAILED", gone, Observed{Run: openRun, Driver: driverPod(corev1.PodFailed, "1")},
			es{"old-run": "FAILED", "old-pend": "FAILED", "old-ok": "COMPLETED", "old-bad": "FAILED"}},
		{"no executors ever: no map", nil, Observed{Run: openRun, Driver: driverPod(corev1.PodRunning, "1")}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := NextStatus(with(running, func(s *st) { s.ExecutorState = tc.prev }), tc.obs, now).ExecutorState
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("executorState (-want +got):\n%s", d)
			}
		})
	}
}

func TestNextStatusExecutorStateCap(t *testing.T) {
	many := make([]corev1.PodPhase, MaxTrackedExecutors+1)
	for i := range many {
		many[i] = corev1.PodRunning
	}
	prev := with(running, func(s *st) {
		s.ExecutorState = map[string]v1beta2.ExecutorState{"gone-1": "RUNNING", "gone-2": "FAILED"}
	})
	got := NextStatus(prev, Observed{Run: openRun, Driver: driverPod(corev1.PodRunning, "1"), Executors: execPods(many...)}, now)
	if n := len(got.ExecutorState); n != MaxTrackedExecutors || MaxTrackedExecutors != 1000 {
		t.Fatalf("executorState has %d entries (cap %d), want 1000", n, MaxTrackedExecutors)
	}
	if got.ExecutorState["exec-1"] != v1beta2.ExecutorStateRunning {
		t.Errorf("exec-1 = %q, want RUNNING", got.ExecutorState["exec-1"])
	}
}

func TestNextStatusRerunClearsExecutors(t *testing.T) {
	prev := with(failing, func(s *st) { s.ExecutorState = map[string]v1beta2.ExecutorState{"exec-1": "FAILED"} })
	got := NextStatus(prev, Observed{Run: openRun, Live: &workflows.Status{Stage: workflows.StageWaitingRetry, Attempt: 1}}, now)
	if got.ExecutorState != nil || got.SparkApplicationID != "" {
		t.Errorf("after PENDING_RERUN executorState %v, sparkApplicationId %q; want both cleared", got.ExecutorState, got.SparkApplicationID)
	}
}
