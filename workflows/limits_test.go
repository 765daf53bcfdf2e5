package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/kindling-dev/kindling/activities"
	"github.com/kindling-dev/kindling/k8s/job"
)

// runScheduled runs a schedule's SparkJob and returns how long it asked its objects to be kept
// and the PruneRuns calls it made.
func runScheduled(t *testing.T, outcome activities.SuperviseOutput, ref ScheduleRef, mutate ...func(*job.JobSpec)) (*cluster, []time.Duration, []activities.PruneInput) {
	t.Helper()
	c := newCluster(t)
	c.supervise = []activities.SuperviseOutput{outcome}
	var prunes []activities.PruneInput
	c.env.OnActivity(a.PruneRuns, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.PruneInput) (activities.PruneOutput, error) {
			prunes = append(prunes, in)
			return activities.PruneOutput{}, nil
		})
	c.mock()
	c.env.ExecuteWorkflow(WorkflowName, spec(mutate...), Carry{Schedule: &ref})
	require.True(t, c.env.IsWorkflowCompleted())
	return c, c.kept(), prunes
}

func TestScheduledSuccessKeepsItsDriverForTheHistoryLimit(t *testing.T) {
	c, delays, prunes := runScheduled(t, succeeded(), ScheduleRef{ID: "etl.nightly", Cron: "@daily"})
	require.NoError(t, c.env.GetWorkflowError())
	require.Empty(t, c.cleanups, "a schedule keeps its last successful run's driver (successfulRunHistoryLimit 1)")
	require.Equal(t, []time.Duration{ScheduledRunKeep}, delays)
	require.Equal(t, []activities.PruneInput{{ScheduleID: "etl.nightly", Status: enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED,
		Keep: 0, ExceptRunID: "default-test-run-id", Namespace: "jobs"}}, prunes, "the older successful runs' drivers are released")
}

func TestScheduledFailureWithLimitZeroCleansUpAtOnce(t *testing.T) {
	zero, three := int32(0), int32(3)
	c, delays, prunes := runScheduled(t, failed(2), ScheduleRef{ID: "etl.nightly", Cron: "@daily",
		FailedRunHistoryLimit: &zero, SuccessfulRunHistoryLimit: &three})
	require.Error(t, c.env.GetWorkflowError())
	require.Len(t, c.cleanups, 1, "failedRunHistoryLimit 0 keeps no failed driver")
	require.Empty(t, delays)
	require.Len(t, prunes, 1)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_FAILED, prunes[0].Status)
	require.Equal(t, 0, prunes[0].Keep)
}

func TestScheduledRunHonoursItsTTL(t *testing.T) {
	two := int32(2)
	_, delays, prunes := runScheduled(t, succeeded(), ScheduleRef{ID: "etl.nightly", Cron: "@daily", SuccessfulRunHistoryLimit: &two}, ttl(600))
	require.Equal(t, []time.Duration{600 * time.Second}, delays)
	require.Equal(t, 1, prunes[0].Keep, "limit 2: this run and one older")
}
