package workflows

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/kindling-dev/kindling/activities"
	"github.com/kindling-dev/kindling/k8s/schedule"
)

// Reprocess says which dates a backfill runs again, as Airflow's backfill does.
const (
	ReprocessNone   = "none"   // only dates without a run
	ReprocessFailed = "failed" // also dates whose last run did not complete
	ReprocessAll    = "all"    // every date (a running one is never started twice)
)

// ScheduledRun is one run a schedule started (on time, by trigger or by backfill).
type ScheduledRun struct {
	Nominal    time.Time                       `json:"nominal"` // the schedule's fire time
	WorkflowID string                          `json:"workflowId"`
	RunID      string                          `json:"runId"`
	Status     enumspb.WorkflowExecutionStatus `json:"-"`
	State      string                          `json:"state"` // RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT
	Started    time.Time                       `json:"started"`
	Closed     *time.Time                      `json:"closed,omitempty"`
}

// BackfillPlan is what a backfill runs and what it leaves, date by date.
type BackfillPlan struct {
	Run  []time.Time          `json:"run"`  // nominal times to start
	Skip map[time.Time]string `json:"skip"` // nominal time → why not (its last run's state)
}

// PlanBackfill lists the runs a backfill of logical dates from..to (inclusive) starts. The
// run for logical date L is the one the schedule fires at its next time after L, so each
// date's nominal time is c.Next(L). last holds each nominal time's newest run.
func PlanBackfill(c *schedule.Cron, from, to time.Time, last map[time.Time]ScheduledRun, reprocess string) (BackfillPlan, error) {
	switch reprocess {
	case ReprocessNone, ReprocessFailed, ReprocessAll:
	default:
		return BackfillPlan{}, fmt.Errorf("--reprocess %q: use none, failed or all", reprocess)
	}
	if to.Before(from) {
		return BackfillPlan{}, fmt.Errorf("--to %s is before --from %s", to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	plan := BackfillPlan{Skip: map[time.Time]string{}}
	const most = 10000
	for l := c.Next(from.Add(-time.Nanosecond)); !l.After(to); l = c.Next(l) {
		if len(plan.Run)+len(plan.Skip) >= most {
			return BackfillPlan{}, fmt.Errorf("the range holds more than %d runs: backfill it in parts", most)
		}
		nominal := c.Next(l).UTC()
		r, ok := last[nominal]
		switch {
		case !ok:
			plan.Run = append(plan.Run, nominal)
		case r.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
			plan.Skip[nominal] = "running"
		case reprocess == ReprocessAll:
			plan.Run = append(plan.Run, nominal)
		case reprocess == ReprocessFailed && r.Status != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
			plan.Run = append(plan.Run, nominal)
		default:
			plan.Skip[nominal] = r.State
		}
	}
	return plan, nil
}

// ScheduleRuns lists the runs a schedule started whose nominal time is within [from, to],
// newest first; a nominal time run more than once (reprocessed) appears once per run.
func ScheduleRuns(ctx context.Context, c client.Client, scheduleID string, from, to time.Time, limit int) ([]ScheduledRun, error) {
	var filter []string
	if !from.IsZero() {
		filter = append(filter, fmt.Sprintf("TemporalScheduledStartTime >= '%s'", from.UTC().Format(time.RFC3339Nano)))
	}
	if !to.IsZero() {
		filter = append(filter, fmt.Sprintf("TemporalScheduledStartTime <= '%s'", to.UTC().Format(time.RFC3339Nano)))
	}
	runs, err := activities.ListScheduleRuns(ctx, c, scheduleID, strings.Join(filter, " AND "))
	if err != nil {
		return nil, err
	}
	out := make([]ScheduledRun, 0, len(runs))
	for _, r := range runs {
		out = append(out, ScheduledRun{Nominal: r.Nominal, WorkflowID: r.WorkflowID, RunID: r.RunID, Status: r.Status,
			State: runState(r.Status), Started: r.Started, Closed: r.Closed})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Started.After(out[j].Started) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// LastRuns keeps each nominal time's newest run.
func LastRuns(runs []ScheduledRun) map[time.Time]ScheduledRun {
	last := map[time.Time]ScheduledRun{}
	for _, r := range runs {
		if prev, ok := last[r.Nominal]; !ok || r.Started.After(prev.Started) {
			last[r.Nominal] = r
		}
	}
	return last
}

func runState(s enumspb.WorkflowExecutionStatus) string {
	switch s {
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		return StateRunning
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		return StateCompleted
	case enumspb.WORKFLOW_EXECUTION_STATUS_FAILED:
		return StateFailed
	case enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED:
		return StateCancelled
	case enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED:
		return "TERMINATED"
	case enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:
		return "TIMED_OUT"
	}
	return s.String()
}

// ScheduledWorkflowID is the workflow ID Temporal gives a schedule's run of a nominal time.
func ScheduledWorkflowID(scheduleID string, nominal time.Time) string {
	return scheduleID + "-" + nominal.UTC().Truncate(time.Second).Format(time.RFC3339)
}

// Backfill has the schedule start the runs of these nominal times, so each is the schedule's
// run (found by its schedule and date) and runs what the schedule runs now. maxActive bounds
// how many run at once: 1 runs them one after another (Temporal buffers them), 0 all at once,
// and more paces them from here, waiting for runs to end. started is told of each start asked.
func Backfill(ctx context.Context, c client.Client, scheduleID string, nominal []time.Time, maxActive int, started func(time.Time)) error {
	h := c.ScheduleClient().GetHandle(ctx, scheduleID)
	d, err := h.Describe(ctx)
	if err != nil {
		return fmt.Errorf("schedule %s: %w", scheduleID, err)
	}
	var jitter time.Duration
	if d.Schedule.Spec != nil {
		jitter = d.Schedule.Spec.Jitter
	}
	// Temporal starts what fires in (Start, End]; a jittered run fires up to jitter late.
	span := func(t time.Time) client.ScheduleBackfill {
		return client.ScheduleBackfill{Start: t.Add(-time.Second), End: t.Add(jitter)}
	}
	if maxActive <= 1 {
		policy := enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL
		if maxActive == 1 {
			policy = enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL
		}
		var ranges []client.ScheduleBackfill
		for _, t := range nominal {
			b := span(t)
			b.Overlap = policy
			ranges = append(ranges, b)
		}
		if len(ranges) == 0 {
			return nil
		}
		if err := h.Backfill(ctx, client.ScheduleBackfillOptions{Backfill: ranges}); err != nil {
			return fmt.Errorf("backfill schedule %s: %w", scheduleID, err)
		}
		for _, t := range nominal {
			started(t)
		}
		return nil
	}
	var active []string
	for _, t := range nominal {
		for {
			if active, err = stillActive(ctx, c, active); err != nil {
				return err
			}
			if len(active) < maxActive {
				break
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(2 * time.Second):
			}
		}
		b := span(t)
		b.Overlap = enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL
		if err := h.Backfill(ctx, client.ScheduleBackfillOptions{Backfill: []client.ScheduleBackfill{b}}); err != nil {
			return fmt.Errorf("backfill schedule %s at %s: %w", scheduleID, t.Format(time.RFC3339), err)
		}
		started(t)
		active = append(active, ScheduledWorkflowID(scheduleID, t))
	}
	return nil
}

// stillActive keeps the workflow IDs not yet started or still running.
func stillActive(ctx context.Context, c client.Client, ids []string) ([]string, error) {
	var out []string
	for _, id := range ids {
		d, err := c.DescribeWorkflowExecution(ctx, id, "")
		var notFound *serviceerror.NotFound
		switch {
		case errors.As(err, &notFound):
			out = append(out, id) // asked for, not started yet
		case err != nil:
			return nil, fmt.Errorf("describe %s: %w", id, err)
		case d.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
			out = append(out, id)
		}
	}
	return out, nil
}
