package activities

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
)

// PruneInput names a schedule's finished runs of one kind whose objects are kept for log
// reading, and how many of them to keep.
type PruneInput struct {
	ScheduleID string
	// Status is the kind of run: COMPLETED or FAILED (a successfulRunHistoryLimit or a
	// failedRunHistoryLimit).
	Status enumspb.WorkflowExecutionStatus
	// Keep is how many of the newest such runs, besides ExceptRunID, keep their objects.
	Keep        int
	ExceptRunID string
}

// PruneOutput names the runs whose objects were released for deletion.
type PruneOutput struct {
	Released []string `json:"released"`
}

// PruneRuns applies a schedule's run history limit: of its finished runs of one kind, all but
// the newest Keep have their objects deleted now, by cancelling the CleanupAfter that keeps
// them (which deletes at once, as on any cancel). Runs whose objects are already gone, and
// runs of other kinds, are left alone.
func (a *Activities) PruneRuns(ctx context.Context, in PruneInput) (PruneOutput, error) {
	var out PruneOutput
	if a.Temporal == nil {
		return out, errors.New("prune: this worker has no Temporal client")
	}
	q := fmt.Sprintf("TemporalScheduledById = '%s' AND ExecutionStatus = '%s'", in.ScheduleID, statusName(in.Status))
	type run struct {
		id, runID string
		closed    time.Time
	}
	var runs []run
	var token []byte
	for {
		resp, err := a.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q, NextPageToken: token, PageSize: 200})
		if err != nil {
			return out, fmt.Errorf("list the runs of schedule %s: %w", in.ScheduleID, err)
		}
		for _, e := range resp.GetExecutions() {
			if e.GetExecution().GetRunId() == in.ExceptRunID {
				continue
			}
			runs = append(runs, run{e.GetExecution().GetWorkflowId(), e.GetExecution().GetRunId(), e.GetCloseTime().AsTime()})
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].closed.After(runs[j].closed) })
	for i, r := range runs {
		if i < in.Keep {
			continue
		}
		err := a.Temporal.CancelWorkflow(ctx, CleanupWorkflowID(r.runID), "")
		var notFound *serviceerror.NotFound
		if errors.As(err, &notFound) {
			continue // its objects went with their TTL, or were never kept
		}
		if err != nil {
			return out, fmt.Errorf("release the objects of %s: %w", r.id, err)
		}
		out.Released = append(out.Released, r.id+"/"+r.runID)
	}
	if len(out.Released) > 0 {
		logger(ctx).Info("run history limit: released older runs' objects", "schedule", in.ScheduleID, "status", statusName(in.Status), "runs", out.Released)
	}
	return out, nil
}

// statusName is how a visibility query spells an execution status.
func statusName(s enumspb.WorkflowExecutionStatus) string {
	switch s {
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		return "Completed"
	case enumspb.WORKFLOW_EXECUTION_STATUS_FAILED:
		return "Failed"
	}
	return s.String()
}
