package workflows

import (
	"context"
	"errors"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/kindling-dev/kindling/activities"
)

var sweepOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 10 * time.Minute,
	HeartbeatTimeout:    time.Minute,
	RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3},
}

// Sweep removes the objects of runs that ended without cleaning up (terminated, or killed by a bug),
// once. A worker keeps a Temporal Schedule that runs it (EnsureSweepSchedule); `kindling
// sweep` runs it by hand.
func Sweep(ctx workflow.Context, in activities.SweepInput) (activities.SweepOutput, error) {
	var out activities.SweepOutput
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, sweepOptions), a.Sweep, in).Get(ctx, &out)
	return out, err
}

// EnsureSweepSchedule creates the schedule that sweeps every interval on taskQueue, unless it
// exists. Client code: the worker calls it at start.
func EnsureSweepSchedule(ctx context.Context, c client.Client, taskQueue string, every time.Duration) error {
	id := SweepSchedulePrefix + taskQueue
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:      id,
		Spec:    client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: every}}},
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		Action: &client.ScheduleWorkflowAction{
			ID:        id,
			Workflow:  SweepWorkflowName,
			Args:      []any{activities.SweepInput{}},
			TaskQueue: taskQueue,
			// A sweep no worker takes (its workers retired) ends instead of running forever.
			WorkflowExecutionTimeout: every,
		},
	})
	var exists *serviceerror.AlreadyExists
	if err != nil && !errors.Is(err, temporal.ErrScheduleAlreadyRunning) && !errors.As(err, &exists) {
		return err
	}
	return nil
}
