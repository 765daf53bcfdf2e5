package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/kindling-dev/kindling/activities"
	"github.com/kindling-dev/kindling/k8s/job"
)

// runDated runs SparkJob with the real Validate (which resolves the dates and fills the
// templates) and returns the result and the spec Render was given.
func runDated(t *testing.T, s job.JobSpec, carry Carry, nominal *time.Time) (JobResult, job.JobSpec) {
	t.Helper()
	c := newCluster(t)
	if nominal != nil {
		require.NoError(t, c.env.SetTypedSearchAttributesOnStart(temporal.NewSearchAttributes(SearchAttrScheduledStart.ValueSet(*nominal))))
	}
	s.MainClass = "org.apache.spark.examples.SparkPi" // the real Validate wants one
	var rendered job.JobSpec
	c.env.OnActivity(a.Validate, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.ValidateInput) (activities.ValidateOutput, error) {
			return (&activities.Activities{}).Validate(ctx, in)
		})
	c.env.OnActivity(a.Render, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.RenderInput) (activities.RenderOutput, error) {
			rendered = in.Spec
			return c.render(ctx, in)
		})
	c.mock()
	c.env.ExecuteWorkflow(WorkflowName, s, carry)
	require.True(t, c.env.IsWorkflowCompleted())
	require.NoError(t, c.env.GetWorkflowError())
	var res JobResult
	require.NoError(t, c.env.GetWorkflowResult(&res))
	return res, rendered
}

func TestScheduledRunFillsItsLogicalDate(t *testing.T) {
	// The nightly run fired at 02:00 Berlin time on 25 November (01:00 UTC) stands for the 24th.
	nominal := time.Date(2026, 11, 25, 1, 0, 0, 0, time.UTC)
	s := spec(func(s *job.JobSpec) {
		s.Arguments = []string{"--date={{ ds }}", "--to={{ data_interval_end }}"}
	})
	carry := Carry{Schedule: &ScheduleRef{ID: "default.nightly", Cron: "0 2 * * *", TimeZone: "Europe/Berlin"}}
	res, rendered := runDated(t, s, carry, &nominal)

	require.Equal(t, []string{"--date=2026-11-24", "--to=2026-11-25T02:00:00+01:00"}, rendered.Arguments)
	require.NotNil(t, res.Dates, "the result does not say what the run stands for")
	require.Equal(t, "2026-11-24T02:00:00+01:00", res.Dates.Values()["logical_date"])
}

func TestDateGivenByHandFillsTemplates(t *testing.T) {
	day := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	s := spec(func(s *job.JobSpec) { s.SparkConf = map[string]string{"spark.app.day": "{{ ds_nodash }}"} })
	res, rendered := runDated(t, s, Carry{LogicalDate: &day}, nil)
	require.Equal(t, "20261103", rendered.SparkConf["spark.app.day"])
	require.Equal(t, "2026-11-04T00:00:00+00:00", res.Dates.Values()["data_interval_end"])
}

func TestUndatedJobWithoutTemplatesHasNoDates(t *testing.T) {
	res, _ := runDated(t, spec(), Carry{}, nil)
	require.Nil(t, res.Dates, "a job that stands for no date got one")
}
