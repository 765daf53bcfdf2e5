package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/kindling-dev/kindling/activities"
	"github.com/kindling-dev/kindling/k8s/job"
)

// ScheduledAppRunWorkflowName is the workflow a controller-mode ScheduledSparkApplication's
// Temporal Schedule starts at each fire time.
const ScheduledAppRunWorkflowName = "ScheduledSparkApplicationRun"

// ErrScheduledRunFailed is the ApplicationError type of a scheduled run whose SparkApplication
// failed: the schedule's pause-on-failure sees it.
const ErrScheduledRunFailed = "ScheduledSparkApplicationRunFailed"

// ScheduledAppRunInput is a ScheduledSparkApplication in controller mode: what each run makes.
type ScheduledAppRunInput struct {
	Namespace string                   `json:"namespace"`
	Name      string                   `json:"name"`
	UID       string                   `json:"uid"`
	Labels    map[string]string        `json:"labels,omitempty"`
	Template  job.SparkApplicationSpec `json:"template"`
}

// ScheduledAppRunResult is a scheduled run's SparkApplication and how it ended.
type ScheduledAppRunResult struct {
	App   string `json:"app"`
	State string `json:"state"`
}

var (
	// A cancel (concurrencyPolicy Replace) waits for the create, so the delete after it
	// never comes first and leaves an object running beside its replacement.
	createAppOptions = workflow.ActivityOptions{
		WaitForCancellation:    true,
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 10 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second,
			NonRetryableErrorTypes: []string{activities.ErrForeignApp, activities.ErrInvalidSpec}},
	}
	// The wait lasts as long as the application; each retry resumes it.
	waitAppOptions = workflow.ActivityOptions{
		StartToCloseTimeout: SuperviseUncapped,
		HeartbeatTimeout:    30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute},
	}
	deleteAppOptions = workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 10 * time.Minute,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second},
	}
)

// ScheduledAppName is the SparkApplication of the run a schedule fires at nominal: the
// operator's <name>-<timestamp>, from the nominal time so a retried run finds its own.
func ScheduledAppName(schedule string, nominal time.Time) string {
	return fmt.Sprintf("%s-%d", schedule, nominal.Unix())
}

// ScheduledAppRun is one run of a ScheduledSparkApplication in controller mode, as the operator
// makes it: a SparkApplication object, owned by the schedule, that the controller then runs.
// The workflow lasts as long as the application, so the schedule's concurrencyPolicy and
// pause-on-failure see the application; a cancelled run (concurrencyPolicy Replace) deletes its
// object, which cancels the application.
func ScheduledAppRun(ctx workflow.Context, in ScheduledAppRunInput) (ScheduledAppRunResult, error) {
	nominal := workflow.Now(ctx)
	if t, ok := workflow.GetTypedSearchAttributes(ctx).GetTime(SearchAttrScheduledStart); ok && !t.IsZero() {
		nominal = t
	}
	ref := activities.AppRef{Namespace: in.Namespace, Name: ScheduledAppName(in.Name, nominal)}
	res := ScheduledAppRunResult{App: ref.Name}
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("SparkApplication `%s` in %s, run by the controller", ref.Name, ref.Namespace))

	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, createAppOptions), a.CreateScheduledApp, activities.ScheduledAppInput{
		Namespace: in.Namespace, Name: ref.Name, OwnerName: in.Name, OwnerUID: in.UID, Labels: in.Labels, Spec: in.Template,
	}).Get(ctx, nil)
	if err == nil {
		var end activities.AppEnding
		err = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, waitAppOptions), a.WaitSparkApplication, ref).Get(ctx, &end)
		res.State = end.State
		if err == nil && end.State != StateCompleted {
			return res, temporal.NewNonRetryableApplicationError(fmt.Sprintf("SparkApplication %s %s: %s", ref.Name, end.State, end.Message), ErrScheduledRunFailed, nil, res)
		}
	}
	if err != nil && ctx.Err() != nil {
		dctx, cancel := workflow.NewDisconnectedContext(ctx)
		defer cancel()
		if derr := workflow.ExecuteActivity(workflow.WithActivityOptions(dctx, deleteAppOptions), a.DeleteSparkApplication, ref).Get(dctx, nil); derr != nil {
			workflow.GetLogger(ctx).Error("could not delete the cancelled run's SparkApplication", "name", ref.Name, "error", derr)
		}
		return res, temporal.NewCanceledError(res)
	}
	if err != nil {
		return res, temporal.NewNonRetryableApplicationError(fmt.Sprintf("SparkApplication %s: %s", ref.Name, message(err)), ErrScheduledRunFailed, nil, res)
	}
	return res, nil
}
