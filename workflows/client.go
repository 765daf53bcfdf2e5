package workflows

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/kindling-dev/kindling/activities"
	"github.com/kindling-dev/kindling/k8s/job"
)

// LiveStatus is the job's status as a client sees it: the workflow's status query, with
// the running Supervise activity's last heartbeat laid over it. Supervise heartbeats its
// progress (driver phase, executor counts) instead of signalling the workflow, so a job's
// history holds no event per pod change; this is where that progress becomes visible.
// Client code only: never call it from a workflow.
func LiveStatus(ctx context.Context, c client.Client, dc converter.DataConverter, workflowID, runID string) (Status, error) {
	if dc == nil {
		dc = converter.GetDefaultDataConverter()
	}
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
		if dc.FromPayload(details[0], &p) == nil {
			st.DriverPhase = p.DriverPhase
			st.ExecutorsRunning, st.ExecutorsPending, st.ExecutorsFailed = p.ExecutorsRunning, p.ExecutorsPending, p.ExecutorsFailed
			if p.LastReason != "" {
				st.LastReason = p.LastReason
			}
		}
	}
	return st, nil
}

// CheckSearchAttributes returns an error naming the exact command to run when namespace
// lacks a search attribute SparkJob sets: without it every job's workflow task is refused
// and retried forever, and a job started from the UI shows nothing.
func CheckSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list the search attributes of namespace %s: %w", namespace, err)
	}
	var missing []string
	for _, name := range slices.Sorted(maps.Keys(SearchAttributes)) {
		if _, ok := resp.GetCustomAttributes()[name]; !ok {
			missing = append(missing, name)
		}
	}
	return missingSearchAttributes(namespace, missing)
}

func missingSearchAttributes(namespace string, missing []string) error {
	if len(missing) == 0 {
		return nil
	}
	cmd := "temporal operator search-attribute create --namespace " + namespace
	for _, name := range missing {
		cmd += " --name " + name + " --type " + SearchAttributes[name]
	}
	return fmt.Errorf("namespace %s lacks the search attributes %s, so every job would hang; register them with:\n  %s",
		namespace, strings.Join(missing, ", "), cmd)
}

// StartSearchAttributes are the search attributes a client sets when it starts a SparkJob for
// spec: the job is listed by name, namespace and state at once, and the workflow need not
// upsert them.
func StartSearchAttributes(spec *job.JobSpec) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(
		SearchAttrJobName.ValueSet(spec.Name),
		SearchAttrNamespace.ValueSet(spec.Namespace),
		SearchAttrState.ValueSet(StateRunning),
	)
}
