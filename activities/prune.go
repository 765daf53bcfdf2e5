package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"github.com/kindling-dev/kindling/k8s/job"
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
	// Namespace is where the runs' objects are. Set: runs that keep their objects by a
	// delete-after mark (KeepObjects) have them deleted; unset, only CleanupAfters are cancelled.
	Namespace string
}

// PruneOutput names the runs whose objects were released for deletion.
type PruneOutput struct {
	Released []string `json:"released"`
}

// PruneRuns applies a schedule's run history limit: of its finished runs of one kind, all but
// the newest Keep have their objects deleted now: those kept by a delete-after mark at once,
// those an older run's CleanupAfter keeps by cancelling it (which deletes at once, as on any
// cancel). Runs whose objects are already gone, and
// runs of other kinds, are left alone.
func (a *Activities) PruneRuns(ctx context.Context, in PruneInput) (PruneOutput, error) {
	var out PruneOutput
	if a.Temporal == nil {
		return out, errors.New("prune: this worker has no Temporal client")
	}
	runs, err := ListScheduleRuns(ctx, a.Temporal, in.ScheduleID, fmt.Sprintf("ExecutionStatus = '%s'", statusName(in.Status)))
	if err != nil {
		return out, err
	}
	runs = slices.DeleteFunc(runs, func(r ScheduleRun) bool { return r.RunID == in.ExceptRunID || r.Closed == nil })
	sort.Slice(runs, func(i, j int) bool { return runs[i].Closed.After(*runs[j].Closed) })
	var kept map[string]bool
	if in.Namespace != "" && a.Pods != nil {
		kept = a.Pods.KeptRuns(in.Namespace)
	}
	for i, r := range runs {
		if i < in.Keep {
			continue
		}
		if label := job.RunLabel(job.RunKey(r.WorkflowID, r.RunID)); kept[label] {
			if err := a.Cluster.Delete(ctx, in.Namespace, "", "", []string{job.LabelRun + "=" + label}); err != nil {
				return out, fmt.Errorf("release the objects of %s: %w", r.WorkflowID, err)
			}
			out.Released = append(out.Released, r.WorkflowID+"/"+r.RunID)
			continue
		}
		err := a.Temporal.CancelWorkflow(ctx, CleanupWorkflowID(r.RunID), "")
		var notFound *serviceerror.NotFound
		if errors.As(err, &notFound) {
			continue // its objects went with their TTL, or were never kept
		}
		if err != nil {
			return out, fmt.Errorf("release the objects of %s: %w", r.WorkflowID, err)
		}
		out.Released = append(out.Released, r.WorkflowID+"/"+r.RunID)
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

// ScheduleRun is one run a schedule started (on time, by trigger or by backfill), as
// Temporal's visibility lists it.
type ScheduleRun struct {
	Nominal    time.Time // the schedule's fire time (TemporalScheduledStartTime)
	WorkflowID string
	RunID      string
	Status     enumspb.WorkflowExecutionStatus
	Started    time.Time
	Closed     *time.Time
}

// RunLister is the part of a Temporal client that lists workflow runs.
type RunLister interface {
	ListWorkflow(ctx context.Context, request *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error)
}

// ListScheduleRuns lists every run the schedule started that also matches filter (a visibility
// query, or ""), across pages.
func ListScheduleRuns(ctx context.Context, l RunLister, scheduleID, filter string) ([]ScheduleRun, error) {
	q := fmt.Sprintf("TemporalScheduledById = '%s'", scheduleID)
	if filter != "" {
		q += " AND " + filter
	}
	var out []ScheduleRun
	var token []byte
	for {
		resp, err := l.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q, NextPageToken: token, PageSize: 200})
		if err != nil {
			return nil, fmt.Errorf("list the runs of schedule %s: %w", scheduleID, err)
		}
		for _, e := range resp.GetExecutions() {
			r := ScheduleRun{WorkflowID: e.GetExecution().GetWorkflowId(), RunID: e.GetExecution().GetRunId(),
				Status: e.GetStatus(), Started: e.GetStartTime().AsTime()}
			_ = converter.GetDefaultDataConverter().FromPayload(e.GetSearchAttributes().GetIndexedFields()["TemporalScheduledStartTime"], &r.Nominal)
			r.Nominal = r.Nominal.UTC()
			if e.GetCloseTime() != nil {
				t := e.GetCloseTime().AsTime()
				r.Closed = &t
			}
			out = append(out, r)
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return out, nil
		}
	}
}
