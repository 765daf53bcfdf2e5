package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/kindling-dev/kindling/activities"
	"github.com/kindling-dev/kindling/k8s/session"
)

// Names of the client-mode session workflow.
const (
	SessionWorkflowName = "SparkSession"
	// QuerySession returns a SessionStatus.
	QuerySession = "session"
	// SignalEndSession ends a session (`kindling session end`); its argument is the reason.
	SignalEndSession = "end"
	// Session states.
	SessionStarting = "STARTING"
	SessionReady    = "READY"
	SessionEnded    = "ENDED"
)

// SessionStatus is a session as the status query gives it: what the notebook must be started
// with, and where it is written.
type SessionStatus struct {
	State     string            `json:"state"`
	Namespace string            `json:"namespace"`
	Pod       string            `json:"pod"`
	Service   string            `json:"service,omitempty"`   // headless, <pod>-spark
	ConfigMap string            `json:"configMap,omitempty"` // key spark-defaults.conf
	Settings  map[string]string `json:"settings,omitempty"`
	StartedAt time.Time         `json:"startedAt"`
	EndsBy    time.Time         `json:"endsBy"`
	Reason    string            `json:"reason,omitempty"`
}

// SessionResult is how a session ended, with its executors at the end.
type SessionResult struct {
	State     string                     `json:"state"`
	Reason    string                     `json:"reason"`
	Executors activities.SessionProgress `json:"executors"`
}

var (
	// A cancel while preparing waits for it, so the cleanup after it sees what it made.
	prepareSessionOptions = workflow.ActivityOptions{
		WaitForCancellation:    true,
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 5 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second,
			NonRetryableErrorTypes: []string{activities.ErrInvalidSpec, activities.ErrForeignObject}},
	}
	superviseSessionOptions = workflow.ActivityOptions{
		StartToCloseTimeout: SuperviseUncapped,
		HeartbeatTimeout:    30 * time.Second,
		WaitForCancellation: true,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute},
	}
)

// SparkSession is a client-mode Spark session for a notebook pod: it makes what Spark's
// submission client would (a headless Service selecting only the pod, the settings), follows
// the executors the notebook's Spark creates, and ends on `kindling session end` (or a cancel),
// when the pod is deleted, at its maximum duration, or when idle; then it removes the
// executors left behind, the Service, the settings and the pod's label.
func SparkSession(ctx workflow.Context, spec session.Spec) (SessionResult, error) {
	info := workflow.GetInfo(ctx)
	maxDur := spec.MaxDuration
	if maxDur == 0 {
		maxDur = session.DefaultMaxDuration
	}
	idle := spec.IdleTimeout
	switch {
	case idle == 0:
		idle = session.DefaultIdleTimeout
	case idle < 0:
		idle = 0
	}
	st := SessionStatus{State: SessionStarting, Namespace: spec.Namespace, Pod: spec.Pod, StartedAt: workflow.Now(ctx)}
	if err := workflow.SetQueryHandler(ctx, QuerySession, func() (SessionStatus, error) { return st, nil }); err != nil {
		return SessionResult{}, err
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, SearchAttrJobName.ValueSet(spec.Pod),
		SearchAttrNamespace.ValueSet(spec.Namespace), SearchAttrState.ValueSet(StateRunning)); err != nil {
		workflow.GetLogger(ctx).Warn("upsert search attributes", "error", err)
	}
	end := func(reason string, res SessionResult) (SessionResult, error) {
		st.State, st.Reason = SessionEnded, reason
		res.State, res.Reason = SessionEnded, reason
		_ = workflow.UpsertTypedSearchAttributes(ctx, SearchAttrState.ValueSet(StateCompleted))
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("**ENDED** · %s", reason))
		return res, nil
	}

	var ready activities.SessionReady
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, prepareSessionOptions), a.PrepareSession,
		activities.SessionInput{Spec: spec, RunID: info.WorkflowExecution.RunID}).Get(ctx, &ready)
	if err != nil {
		st.State, st.Reason = SessionEnded, message(err)
		_ = workflow.UpsertTypedSearchAttributes(ctx, SearchAttrState.ValueSet(StateFailed))
		// Nothing may have been made, or part: clean what there is (only this session's).
		cleanupSession(ctx, spec, activities.SessionReady{Names: session.MakeNames(spec.Pod, info.WorkflowExecution.RunID)})
		if ctx.Err() != nil {
			return SessionResult{State: SessionEnded, Reason: "cancelled while starting"}, nil
		}
		return SessionResult{}, temporal.NewNonRetryableApplicationError(message(err), activities.ErrInvalidSpec, nil)
	}
	st.State, st.Service, st.ConfigMap, st.Settings = SessionReady, ready.Names.Service, ready.Names.ConfigMap, ready.Settings
	st.EndsBy = workflow.Now(ctx).Add(maxDur)
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("**READY** · notebook `%s/%s` · service `%s` · settings in ConfigMap `%s`",
		spec.Namespace, spec.Pod, ready.Names.Service, ready.Names.ConfigMap))

	sctx, stop := workflow.WithCancel(ctx)
	watch := workflow.ExecuteActivity(workflow.WithActivityOptions(sctx, superviseSessionOptions), a.SuperviseSession, activities.SessionWatch{
		Namespace: spec.Namespace, Pod: spec.Pod, PodUID: ready.PodUID, ID: ready.Names.ID, IdleTimeout: idle,
	})
	reason := ""
	var res SessionResult
	sel := workflow.NewSelector(ctx)
	sel.AddFuture(watch, func(f workflow.Future) {
		var out activities.SessionEnd
		if err := f.Get(ctx, &out); err != nil {
			reason = "supervision failed: " + message(err)
			if ctx.Err() != nil {
				reason = "cancelled"
			}
			return
		}
		reason, res.Executors = out.Reason, out.Progress
	})
	sel.AddReceive(workflow.GetSignalChannel(ctx, SignalEndSession), func(c workflow.ReceiveChannel, _ bool) {
		var why string
		c.Receive(ctx, &why)
		if why == "" {
			why = "ended by kindling session end"
		}
		reason = why
	})
	sel.AddFuture(workflow.NewTimer(sctx, maxDur), func(f workflow.Future) {
		reason = fmt.Sprintf("its maximum duration (%s) passed", maxDur)
		if f.Get(ctx, nil) != nil {
			reason = "cancelled"
		}
	})
	sel.Select(ctx)
	if ctx.Err() != nil && reason == "" {
		reason = "cancelled"
	}
	stop()
	if !watch.IsReady() { // its cancel acknowledged before the executors go
		dctx, cancel := workflow.NewDisconnectedContext(ctx)
		_ = watch.Get(dctx, nil)
		cancel()
	}
	cleanupSession(ctx, spec, ready)
	return end(reason, res)
}

// cleanupSession removes what the session made, on a disconnected context so it runs after a
// cancel too. A failure is logged: the pod's owner references still take the Service and the
// ConfigMap when the notebook goes.
func cleanupSession(ctx workflow.Context, spec session.Spec, ready activities.SessionReady) {
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(dctx, cleanupOptionsHeartbeat), a.CleanupSession, activities.SessionCleanup{
		Namespace: spec.Namespace, Pod: spec.Pod, PodUID: ready.PodUID, Names: ready.Names,
	}).Get(dctx, nil)
	if err != nil {
		workflow.GetLogger(ctx).Error("session cleanup failed", "error", err)
	}
}
