package workflows_test

import (
	"strings"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/workflows"
)

const scheduled = `apiVersion: sparkoperator.k8s.io/v1beta2
kind: ScheduledSparkApplication
metadata:
  name: nightly
  namespace: etl
  annotations:
    kindling.dev/pause-on-failure: "true"
    kindling.dev/catchup-window: 2h
spec:
  schedule: "CRON_TZ=Europe/Berlin 0 2 * * *"
  concurrencyPolicy: Replace
  template:
    type: Scala
    mode: cluster
    image: spark:4.0.1
    mainClass: org.example.Nightly
    mainApplicationFile: local:///opt/app.jar
    arguments: ["--date={{ ds }}"]
    driver: {cores: 1, memory: 512m}
    executor: {instances: 2, cores: 1, memory: 512m}
`

func planOf(t *testing.T, manifest string) (*workflows.ScheduledJob, error) {
	t.Helper()
	s, unknown, err := job.ReadScheduled([]byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	return workflows.PlanSchedule(s, unknown, "kindling")
}

func TestPlanScheduleMapsTheManifest(t *testing.T) {
	sj, err := planOf(t, scheduled)
	if err != nil {
		t.Fatal(err)
	}
	o := sj.Options
	if sj.ID != "etl.nightly" || o.ID != "etl.nightly" {
		t.Errorf("schedule ID %q, want etl.nightly", sj.ID)
	}
	if o.Overlap != enumspb.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER {
		t.Errorf("Replace became %s, want CANCEL_OTHER (terminate would leak the driver)", o.Overlap)
	}
	if !o.PauseOnFailure || o.CatchupWindow.String() != "2h0m0s" {
		t.Errorf("pause on failure %v, catch-up %s; want true, 2h", o.PauseOnFailure, o.CatchupWindow)
	}
	if o.Spec.TimeZoneName != "Europe/Berlin" {
		t.Errorf("time zone %q, want the CRON_TZ prefix's", o.Spec.TimeZoneName)
	}
	act := o.Action.(*client.ScheduleWorkflowAction)
	carry := act.Args[1].(workflows.Carry)
	if act.Workflow != workflows.WorkflowName || carry.Schedule == nil || carry.Schedule.Cron != "CRON_TZ=Europe/Berlin 0 2 * * *" {
		t.Errorf("action starts %v with carry %+v", act.Workflow, carry.Schedule)
	}
	if spec := act.Args[0].(job.JobSpec); spec.Arguments[0] != "--date={{ ds }}" {
		t.Errorf("the template was filled at apply time: %q (each run fills its own)", spec.Arguments[0])
	}
}

func TestPlanScheduleListsEveryProblem(t *testing.T) {
	bad := strings.NewReplacer(
		`"CRON_TZ=Europe/Berlin 0 2 * * *"`, `"0 25 * * *"`,
		"concurrencyPolicy: Replace", "concurrencyPolicy: Sometimes",
		"catchup-window: 2h", "catchup-window: soon",
		"{{ ds }}", "{{ yesterday }}",
	).Replace(scheduled)
	_, err := planOf(t, bad)
	if err == nil {
		t.Fatal("a manifest with four mistakes was planned")
	}
	for _, want := range []string{
		"(4 problems)",
		`spec.schedule: "0 25 * * *"`,
		`spec.concurrencyPolicy: must be Allow, Forbid or Replace; got "Sometimes"`,
		`metadata.annotations[kindling.dev/catchup-window]: "soon" is not a duration`,
		"spec.template.arguments[0]: unknown template {{ yesterday }}",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Count(err.Error(), "spec.schedule") != 1 {
		t.Errorf("the field is named more than once:\n%v", err)
	}
}

func TestUnsetConcurrencyPolicySkipsWithAWarning(t *testing.T) {
	sj, err := planOf(t, strings.Replace(scheduled, "  concurrencyPolicy: Replace\n", "", 1))
	if err != nil {
		t.Fatal(err)
	}
	if sj.Options.Overlap != enumspb.SCHEDULE_OVERLAP_POLICY_SKIP {
		t.Errorf("unset policy became %s, want SKIP", sj.Options.Overlap)
	}
	if !strings.Contains(strings.Join(sj.Warnings, "\n"), "concurrencyPolicy is not set") {
		t.Errorf("no warning about the unset policy: %q", sj.Warnings)
	}
}
