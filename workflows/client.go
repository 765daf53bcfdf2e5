package workflows

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/kindling-dev/kindling/activities"
)

// LiveStatus is the job's status as a client sees it: the workflow's status query, with
// the running Supervise activity's last heartbeat laid over it. Supervise heartbeats its
// progress (driver phase, executor counts) instead of signalling the workflow, so a job's
// history holds no event per pod change; this is where that progress becomes visible.
// Client code only: never call it from a workflow.
func LiveStatus(ctx context.Context, c client.Client, workflowID, runID string) (Status, error) {
	var st Status
	v, err := c.QueryWorkflow(ctx, workflowID, runID, QueryStatus)
	if err != nil {
		return st, fmt.Errorf("query status of %s: %w", workflowID, err)
	}
	if err := v.Get(&st); err != nil {
		return st, err
	}
	if st.Stage != StageSupervising {
		return st, nil
	}
	desc, err := c.DescribeWorkflowExecution(ctx, workflowID, runID)
	if err != nil {
		return st, nil // the query's answer stands on its own
	}
	for _, pa := range desc.GetPendingActivities() {
		details := pa.GetHeartbeatDetails().GetPayloads()
		if pa.GetActivityType().GetName() != "Supervise" || len(details) == 0 {
			continue
		}
		var p activities.SuperviseProgress
		if converter.GetDefaultDataConverter().FromPayload(details[0], &p) == nil {
			st.DriverPhase = p.DriverPhase
			st.ExecutorsRunning, st.ExecutorsPending, st.ExecutorsFailed = p.ExecutorsRunning, p.ExecutorsPending, p.ExecutorsFailed
			if p.LastReason != "" {
				st.LastReason = p.LastReason
			}
		}
	}
	return st, nil
}
