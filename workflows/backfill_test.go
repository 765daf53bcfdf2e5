package workflows_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/kindling-dev/kindling/k8s/schedule"
	"github.com/kindling-dev/kindling/workflows"
)

func TestPlanBackfillRunsOnlyWhatIsMissing(t *testing.T) {
	c, _, err := schedule.Parse("0 2 * * *", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	day := func(d int) time.Time { return time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC) }
	// The run for logical date D (its 02:00) fires at 02:00 on D+1.
	nominal := func(d int) time.Time { return time.Date(2026, 11, d+1, 2, 0, 0, 0, time.UTC) }
	run := func(d int, s enumspb.WorkflowExecutionStatus, state string) workflows.ScheduledRun {
		return workflows.ScheduledRun{Nominal: nominal(d), Status: s, State: state}
	}
	last := map[time.Time]workflows.ScheduledRun{
		nominal(2): run(2, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, "COMPLETED"),
		nominal(3): run(3, enumspb.WORKFLOW_EXECUTION_STATUS_FAILED, "FAILED"),
		nominal(4): run(4, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, "RUNNING"),
	}
	for _, tc := range []struct {
		reprocess string
		want      []time.Time
	}{
		// --from 1 --to 5: the logical dates are 02:00 of days 1..4 (day 5's 02:00 is after --to's midnight).
		{workflows.ReprocessNone, []time.Time{nominal(1)}},
		{workflows.ReprocessFailed, []time.Time{nominal(1), nominal(3)}},
		{workflows.ReprocessAll, []time.Time{nominal(1), nominal(2), nominal(3)}},
	} {
		plan, err := workflows.PlanBackfill(c, day(1), day(5), last, tc.reprocess)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, plan.Run); diff != "" {
			t.Errorf("--reprocess %s (-want +got):\n%s", tc.reprocess, diff)
		}
		if plan.Skip[nominal(4)] != "running" {
			t.Errorf("--reprocess %s: a running date is not left alone: %v", tc.reprocess, plan.Skip)
		}
	}
	if _, err := workflows.PlanBackfill(c, day(5), day(1), nil, workflows.ReprocessNone); err == nil {
		t.Error("a range that ends before it starts was planned")
	}
	if _, err := workflows.PlanBackfill(c, day(1), day(5), nil, "completed"); err == nil {
		t.Error("an unknown --reprocess was planned")
	}
}
