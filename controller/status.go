package controller

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kindling-dev/kindling/activities"
	"github.com/kindling-dev/kindling/k8s/api/v1beta2"
	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/k8s/render"
	"github.com/kindling-dev/kindling/workflows"
)

// MaxTrackedExecutors caps executorState, as the operator's --max-tracked-executor-per-app
// does (its default is 1000): a status must stay well under etcd's object size limit.
const MaxTrackedExecutors = 1000

// Run is what Temporal says of the workflow run an object's status follows.
type Run struct {
	ID    string
	Found bool
	Open  bool
	// Closed runs only.
	Status    enumspb.WorkflowExecutionStatus
	CloseTime time.Time
	Result    *workflows.JobResult // the result, or the one a failure or cancel carries
	Failure   string               // the failure's message, when it carries no result (an invalid spec)
}

// Observed is everything a SparkApplication's status is computed from.
type Observed struct {
	Run Run
	// Driver is the run's current driver pod, if it exists.
	Driver *corev1.Pod
	// Executors are the current driver's executor pods.
	Executors []corev1.Pod
	// Live is the run's status query, asked only while the run is open and has no driver.
	Live *workflows.Status
	// Suspended: the object asks to be suspended.
	Suspended bool
}

// NextStatus is the status the operator would write, from the last one and what is observed
// now. It never writes UNKNOWN: a gap in what is observed keeps the last state (Airflow's
// sensor fails on UNKNOWN).
func NextStatus(prev v1beta2.SparkApplicationStatus, obs Observed, now time.Time) v1beta2.SparkApplicationStatus {
	st := *prev.DeepCopy()
	prevExecs := prev.ExecutorState
	if d := obs.Driver; d != nil && prev.SubmissionID != "" && d.Labels[render.LabelOperatorSubmissionID] != prev.SubmissionID {
		// A new attempt's driver: the last attempt's executors and ending are not its.
		prevExecs, st.TerminationTime = nil, metav1.Time{}
	}
	if d := obs.Driver; d != nil {
		st.DriverInfo.PodName = d.Name
		if id := d.Labels[render.LabelOperatorSubmissionID]; id != "" {
			st.SubmissionID = id
		}
		if id := d.Labels[job.LabelSparkAppID]; id != "" {
			st.SparkApplicationID = id
		}
		st.LastSubmissionAttemptTime = d.CreationTimestamp
		// The UI is served on the driver's headless Service: an address by DNS, where the
		// operator's own UI Service gives a ClusterIP.
		if svc := d.Annotations[render.AnnotationDriverService]; svc != "" {
			port, _ := strconv.Atoi(d.Annotations[render.AnnotationUIPort])
			st.DriverInfo.WebUIServiceName, st.DriverInfo.WebUIPort = svc, int32(port)
			if port > 0 {
				st.DriverInfo.WebUIAddress = fmt.Sprintf("%s.%s.svc:%d", svc, d.Namespace, port)
			}
		}
		if n, err := strconv.Atoi(d.Labels[job.LabelAttempt]); err == nil && n > 0 {
			st.SubmissionAttempts = max(st.SubmissionAttempts, int32(n))
			st.ExecutionAttempts = max(st.ExecutionAttempts, int32(n))
		}
	}
	if r := obs.Run.Result; r != nil && !obs.Run.Open && len(r.Attempts) > 0 {
		var submitted int32
		for _, a := range r.Attempts {
			if a.Outcome != activities.ErrSubmission {
				submitted++
			}
		}
		// The result is the whole record: an attempt whose create failed was never executed,
		// which the driver's attempt number cannot tell.
		st.SubmissionAttempts, st.ExecutionAttempts = int32(len(r.Attempts)), submitted
		if st.SparkApplicationID == "" {
			st.SparkApplicationID = r.AppID
		}
	}

	switch {
	case obs.Run.Open:
		if d := obs.Driver; d != nil {
			switch d.Status.Phase {
			case corev1.PodPending:
				st.AppState = v1beta2.ApplicationState{State: v1beta2.ApplicationStateSubmitted}
			case corev1.PodRunning:
				st.AppState = v1beta2.ApplicationState{State: v1beta2.ApplicationStateRunning}
			case corev1.PodSucceeded:
				st.AppState = v1beta2.ApplicationState{State: v1beta2.ApplicationStateSucceeding}
				setOnce(&st.TerminationTime, now)
			case corev1.PodFailed:
				st.AppState = v1beta2.ApplicationState{State: v1beta2.ApplicationStateFailing, ErrorMessage: driverError(d)}
				setOnce(&st.TerminationTime, now)
			}
		} else if l := obs.Live; l != nil && retrying(l) {
			// Between attempts: the last one's objects go, then the next is submitted. The
			// operator's resetSparkApplicationStatus: the last attempt's ids, ending and
			// executors are not the next one's.
			st.AppState = v1beta2.ApplicationState{State: v1beta2.ApplicationStatePendingRerun}
			if strings.HasPrefix(l.LastReason, "submission failed") {
				st.AppState = v1beta2.ApplicationState{State: v1beta2.ApplicationStateFailedSubmission, ErrorMessage: l.LastReason}
			}
			st.TerminationTime, st.SparkApplicationID, prevExecs = metav1.Time{}, "", nil
			st.DriverInfo = v1beta2.DriverInfo{PodName: st.DriverInfo.PodName}
		}
	case obs.Run.Found:
		setOnce(&st.TerminationTime, obs.Run.CloseTime)
		switch obs.Run.Status {
		case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
			st.AppState = v1beta2.ApplicationState{State: v1beta2.ApplicationStateCompleted}
		case enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED:
			if obs.Suspended {
				st.AppState = v1beta2.ApplicationState{State: v1beta2.ApplicationStateSuspended}
				st.TerminationTime = metav1.Time{}
			} else {
				st.AppState = v1beta2.ApplicationState{State: v1beta2.ApplicationStateFailed, ErrorMessage: runError(obs, "the run was cancelled")}
			}
		case enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED:
			st.AppState = v1beta2.ApplicationState{State: v1beta2.ApplicationStateFailed, ErrorMessage: "the run was terminated in Temporal"}
		case enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:
			st.AppState = v1beta2.ApplicationState{State: v1beta2.ApplicationStateFailed, ErrorMessage: "the run timed out"}
		default:
			st.AppState = v1beta2.ApplicationState{State: v1beta2.ApplicationStateFailed, ErrorMessage: runError(obs, "the Spark application failed")}
		}
	}
	st.ExecutorState = executorStates(prevExecs, obs.Executors, st.AppState.State)
	return st
}

// retrying: the run's last attempt ended and the next is on its way.
func retrying(l *workflows.Status) bool {
	switch l.Stage {
	case workflows.StageWaitingRetry, workflows.StageCleaningUp:
		return true
	case workflows.StageRendering, workflows.StageCreating:
		return l.Attempt > 1
	}
	return false
}

// driverError is the operator's errorMessage for a failed driver.
func driverError(d *corev1.Pod) string {
	for _, c := range d.Status.ContainerStatuses {
		if c.Name != job.DriverContainerName {
			continue
		}
		if t := c.State.Terminated; t != nil {
			if t.ExitCode == 0 {
				return ""
			}
			return fmt.Sprintf("driver container failed with ExitCode: %d, Reason: %s", t.ExitCode, t.Reason)
		}
	}
	return "driver container status missing"
}

// runError is a failed run's message: the operator's wording when the driver failed, else
// what Kindling found.
func runError(obs Observed, fallback string) string {
	if d := obs.Driver; d != nil && d.Status.Phase == corev1.PodFailed {
		if msg := driverError(d); msg != "" {
			return msg
		}
	}
	if r := obs.Run.Result; r != nil && r.Reason != "" {
		return r.Reason
	}
	if obs.Run.Failure != "" {
		return obs.Run.Failure
	}
	return fallback
}

// executorStates follows the operator: each executor pod's phase by name; a pod that is gone
// keeps its last terminal state, else becomes COMPLETED when the application completed,
// FAILED when it failed, and UNKNOWN while it runs. Unlike the operator, executors that go
// while the driver is SUCCEEDING (Spark stopping them at the end) count as COMPLETED, not
// FAILED: a succeeded application listing FAILED executors is kubeflow/spark-operator#2277.
func executorStates(prev map[string]v1beta2.ExecutorState, pods []corev1.Pod, app v1beta2.ApplicationStateType) map[string]v1beta2.ExecutorState {
	out := map[string]v1beta2.ExecutorState{}
	for _, p := range pods {
		if len(out) >= MaxTrackedExecutors {
			break
		}
		out[p.Name] = executorState(p.Status.Phase)
	}
	for name, s := range prev {
		if _, ok := out[name]; ok || len(out) >= MaxTrackedExecutors {
			continue
		}
		switch {
		case s == v1beta2.ExecutorStateCompleted || s == v1beta2.ExecutorStateFailed:
			out[name] = s
		case app == v1beta2.ApplicationStateCompleted || app == v1beta2.ApplicationStateSucceeding:
			out[name] = v1beta2.ExecutorStateCompleted
		case app == v1beta2.ApplicationStateFailed || app == v1beta2.ApplicationStateFailing:
			out[name] = v1beta2.ExecutorStateFailed
		default:
			out[name] = v1beta2.ExecutorStateUnknown
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func executorState(p corev1.PodPhase) v1beta2.ExecutorState {
	switch p {
	case corev1.PodPending:
		return v1beta2.ExecutorStatePending
	case corev1.PodRunning:
		return v1beta2.ExecutorStateRunning
	case corev1.PodSucceeded:
		return v1beta2.ExecutorStateCompleted
	case corev1.PodFailed:
		return v1beta2.ExecutorStateFailed
	}
	return v1beta2.ExecutorStateUnknown
}

func setOnce(t *metav1.Time, at time.Time) {
	if t.IsZero() && !at.IsZero() {
		*t = metav1.NewTime(at.UTC().Truncate(time.Second))
	}
}
