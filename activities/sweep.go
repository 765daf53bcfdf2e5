package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"

	"github.com/kindling-dev/kindling/k8s/cluster"
)

// WorkflowDescriber is the part of a Temporal client the sweep, PruneRuns and Supervise's
// progress signals need.
type WorkflowDescriber interface {
	DescribeWorkflowExecution(ctx context.Context, workflowID, runID string) (*workflowservice.DescribeWorkflowExecutionResponse, error)
	ListWorkflow(ctx context.Context, request *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error)
	CancelWorkflow(ctx context.Context, workflowID, runID string) error
	SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error
}

// CleanupWorkflowID is the ID of the CleanupAfter a SparkJob run starts to keep its objects
// for their time to live: from the run ID alone, which is unique and, unlike the workflow ID,
// kept by the replayer.
func CleanupWorkflowID(runID string) string { return "kindling-cleanup-" + runID }

// SweepInput says where to sweep: Namespace, or "" for every namespace the worker watches.
type SweepInput struct {
	Namespace string
}

// SweepOutput says what the sweep removed and how many runs it left alone.
type SweepOutput struct {
	Deleted []string `json:"deleted"`
	Kept    int      `json:"kept"`
}

// Sweep removes the objects of runs that ended without cleaning up: terminated from the UI
// or killed by a bug, and those whose delete-after mark has passed. It leaves alone a run still
// open, one whose delete-after mark or CleanupAfter still keeps its objects for their time to live, objects whose workflow another open run of the same ID may be
// using (after a Reset), objects whose workflow this Temporal namespace does not know (another
// deployment's, or past retention), objects without Kindling's workflow annotation, and the
// objects of a SparkApplication run in controller mode, which go when the object goes.
func (a *Activities) Sweep(ctx context.Context, in SweepInput) (SweepOutput, error) {
	var out SweepOutput
	if a.Temporal == nil {
		return out, errors.New("sweep: this worker has no Temporal client")
	}
	ns := in.Namespace
	if ns == "" {
		ns = a.WatchNamespace
	}
	objs := a.Cluster
	runs, err := objs.Runs(ctx, ns)
	if err != nil {
		return out, err
	}
	for _, r := range runs {
		if activity.IsActivity(ctx) {
			activity.RecordHeartbeat(ctx, len(out.Deleted))
		}
		ended := false
		switch {
		case time.Now().Before(r.DeleteAfter):
			// A finished job keeps them for its time to live.
		case r.App == "": // a SparkApplication's objects go with it (their owner reference)
			if ended, err = a.ended(ctx, r); err != nil {
				return out, err
			}
		}
		if !ended {
			out.Kept++
			continue
		}
		if err := objs.Delete(ctx, r.Namespace, "", "", []string{r.Selector()}); err != nil {
			return out, fmt.Errorf("sweep %s: %w", r, err)
		}
		logger(ctx).Info("swept the objects of an ended run", "namespace", r.Namespace, "workflowId", r.WorkflowID, "runId", r.RunID, "objects", r.Objects)
		out.Deleted = append(out.Deleted, r.String())
	}
	return out, nil
}

// ended tells whether a run's objects are no one's to clean up any more: its workflow run is
// closed, no run of its workflow is open, and no CleanupAfter keeps them.
func (a *Activities) ended(ctx context.Context, r cluster.Run) (bool, error) {
	if r.WorkflowID == "" {
		return false, nil
	}
	d, err := a.Temporal.DescribeWorkflowExecution(ctx, r.WorkflowID, r.RunID)
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound):
		// Not this Temporal namespace's (another deployment sharing the cluster), or its
		// history is past retention: either way not provably ours to end.
		return false, nil
	case err != nil:
		return false, fmt.Errorf("describe workflow %s run %s: %w", r.WorkflowID, r.RunID, err)
	}
	info := d.GetWorkflowExecutionInfo()
	if info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return false, nil
	}
	// A run reset from this one (or continued from it) may be supervising these very objects.
	if latest, err := a.Temporal.DescribeWorkflowExecution(ctx, r.WorkflowID, ""); err != nil && !errors.As(err, &notFound) {
		return false, fmt.Errorf("describe workflow %s: %w", r.WorkflowID, err)
	} else if err == nil && latest.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return false, nil
	}
	c, err := a.Temporal.DescribeWorkflowExecution(ctx, CleanupWorkflowID(info.GetExecution().GetRunId()), "")
	switch {
	case errors.As(err, &notFound):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("describe the delayed cleanup of %s: %w", r.WorkflowID, err)
	}
	return c.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, nil
}
