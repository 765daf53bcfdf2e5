package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/google/uuid"

	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/k8s/job/jobtest"
	"github.com/kindling-dev/kindling/workflows"
)

// kindling runs the CLI as a user would, against the stack's Temporal.
func kindling(t *testing.T, args ...string) (string, int) {
	t.Helper()
	return kindlingEnv(t, nil, args...)
}

// kindlingEnv runs the CLI with extra environment; it returns stdout then stderr, and the exit code.
func kindlingEnv(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(stack.cliBin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	t.Logf("$ kindling %s → exit %d\n%s%s", strings.Join(args, " "), code, out, stderr.String())
	return string(out) + stderr.String(), code
}

// mustKindling runs the CLI and fails the test unless it exits 0.
func mustKindling(t *testing.T, args ...string) string {
	t.Helper()
	out, code := kindling(t, args...)
	if code != 0 {
		t.Fatalf("kindling %s exited %d", strings.Join(args, " "), code)
	}
	return out
}

// scheduledJob writes a ScheduledSparkApplication around the test job and returns its path
// and schedule ID; the schedule is deleted when the test ends. The name gets a random
// suffix: runs of an earlier test run on the same stack must not count as this one's.
func scheduledJob(t *testing.T, name, schedule, policy string, annotations map[string]string, spec job.JobSpec, extra ...map[string]any) (string, string) {
	t.Helper()
	name += "-" + uuid.NewString()[:6]
	doc := map[string]any{
		"apiVersion": "sparkoperator.k8s.io/v1beta2",
		"kind":       "ScheduledSparkApplication",
		"metadata":   map[string]any{"name": name, "namespace": ns, "annotations": annotations},
		"spec": map[string]any{
			"schedule": schedule, "timeZone": "UTC", "concurrencyPolicy": policy,
			"template": spec.SparkApplicationSpec,
		},
	}
	for _, e := range extra {
		for k, v := range e {
			doc["spec"].(map[string]any)[k] = v
		}
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name+".yaml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	id := workflows.ScheduleID(ns, name)
	t.Cleanup(func() {
		_ = stack.temporal.ScheduleClient().GetHandle(context.Background(), id).Delete(context.Background())
		// Runs still going (a test that failed half way) are cancelled, so they clean up.
		runs, _ := workflows.ScheduleRuns(context.Background(), stack.temporal, id, time.Time{}, time.Time{}, 0)
		for _, r := range runs {
			if r.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
				_ = stack.temporal.CancelWorkflow(context.Background(), r.WorkflowID, r.RunID)
			}
		}
	})
	return path, id
}

func describeSchedule(t *testing.T, id string) map[string]any {
	t.Helper()
	out, code := kindling(t, "schedule", "describe", id, "-o", "json")
	if code != 0 {
		t.Fatalf("describe %s exited %d", id, code)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(out[:strings.LastIndex(out, "}")+1]), &v); err != nil {
		t.Fatalf("describe %s: %v\n%s", id, err, out)
	}
	return v
}

func scheduleRuns(t *testing.T, id string) []workflows.ScheduledRun {
	t.Helper()
	runs, err := workflows.ScheduleRuns(context.Background(), stack.temporal, id, time.Time{}, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

func countState(runs []workflows.ScheduledRun, state string) int {
	n := 0
	for _, r := range runs {
		if r.State == state {
			n++
		}
	}
	return n
}

// A schedule that fires every minute runs jobs on its own; pause stops it, resume and delete
// do what they say.
func TestScheduleRunsJobsOnItsOwn(t *testing.T) {
	t.Parallel()
	spec := testJob(t, nil)
	path, id := scheduledJob(t, "e2e-every-minute", "* * * * *", "Forbid", nil, spec)
	out := mustKindling(t, "schedule", "apply", "-f", path, "--task-queue", stack.taskQueue)
	if !strings.Contains(out, "schedule "+id+" created") {
		t.Fatalf("apply said %q", out)
	}
	// Applying again updates in place.
	if out := mustKindling(t, "schedule", "apply", "-f", path, "--task-queue", stack.taskQueue); !strings.Contains(out, "updated") {
		t.Fatalf("second apply said %q", out)
	}
	waitFor(t, 4*time.Minute, "two scheduled runs to complete", func() bool {
		return countState(scheduleRuns(t, id), workflows.StateCompleted) >= 2
	})
	for _, r := range scheduleRuns(t, id) {
		if !strings.HasPrefix(r.WorkflowID, id+"-") || r.Nominal.Second() != 0 {
			t.Errorf("run %s (nominal %s): want ID %s-<minute>", r.WorkflowID, r.Nominal, id)
		}
	}
	mustKindling(t, "schedule", "pause", id, "--note", "maintenance")
	if d := describeSchedule(t, id); d["paused"] != true || d["note"] != "maintenance" {
		t.Errorf("after pause: paused=%v note=%v", d["paused"], d["note"])
	}
	if out := mustKindling(t, "schedule", "list"); !strings.Contains(out, id) {
		t.Errorf("list lacks %s", id)
	}
	mustKindling(t, "schedule", "resume", id)
	if d := describeSchedule(t, id); d["paused"] != false {
		t.Errorf("after resume: paused=%v", d["paused"])
	}
	mustKindling(t, "schedule", "delete", id)
	if _, code := kindling(t, "schedule", "describe", id); code != 3 {
		t.Errorf("describe of a deleted schedule exited %d, want 3", code)
	}
}

// A backfill of three days runs three jobs whose drivers get their own {{ ds }}; the same
// backfill again runs none.
func TestScheduleBackfillRunsEachDateOnce(t *testing.T) {
	t.Parallel()
	ttl := int64(600) // keep the drivers to read their arguments
	spec := testJob(t, nil, func(s *job.JobSpec) {
		s.Arguments = []string{"--date={{ ds }}", "--until={{ data_interval_end }}"}
		s.TimeToLiveSeconds = &ttl
	})
	// Keep every run's driver, to read its arguments.
	path, id := scheduledJob(t, "e2e-backfill", "0 2 * * *", "Forbid", nil, spec, map[string]any{"successfulRunHistoryLimit": 5})
	mustKindling(t, "schedule", "apply", "-f", path, "--task-queue", stack.taskQueue)

	day := time.Now().UTC().AddDate(0, 0, -6).Truncate(24 * time.Hour)
	from, to := day.Format(time.DateOnly), day.AddDate(0, 0, 2).Format(time.DateOnly)
	if out := mustKindling(t, "schedule", "backfill", id, "--from", from, "--to", to, "--dry-run"); !strings.Contains(out, "would start 3 run(s)") {
		t.Fatalf("dry run said %q", out)
	}
	if len(scheduleRuns(t, id)) != 0 {
		t.Fatal("a dry run started runs")
	}
	mustKindling(t, "schedule", "backfill", id, "--from", from, "--to", to)
	waitFor(t, 4*time.Minute, "three backfilled runs to complete", func() bool {
		return countState(scheduleRuns(t, id), workflows.StateCompleted) == 3
	})
	want := map[string]bool{}
	for i := range 3 {
		d := day.AddDate(0, 0, i)
		want["--date="+d.Format(time.DateOnly)+" --until="+d.AddDate(0, 0, 1).Add(2*time.Hour).Format("2006-01-02T15:04:05-07:00")] = true
	}
	pods, err := stack.kube.Kube.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: job.LabelSparkRole + "=driver"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, p := range pods.Items {
		if !strings.HasPrefix(p.Annotations[job.AnnotationWorkflow], id+"-") {
			continue
		}
		args := p.Spec.Containers[0].Args
		var mine []string
		for _, a := range args {
			if strings.HasPrefix(a, "--date=") || strings.HasPrefix(a, "--until=") {
				mine = append(mine, a)
			}
		}
		got[strings.Join(mine, " ")] = true
	}
	for w := range want {
		if !got[w] {
			t.Errorf("no driver received %q; drivers got %v", w, got)
		}
	}
	// The same backfill again: every date has its run.
	out := mustKindling(t, "schedule", "backfill", id, "--from", from, "--to", to)
	if !strings.Contains(out, "started 0 run(s)") || len(scheduleRuns(t, id)) != 3 {
		t.Errorf("repeated backfill said %q and the schedule has %d runs; want none started, 3 runs", out, len(scheduleRuns(t, id)))
	}
	// --reprocess all runs one date again.
	mustKindling(t, "schedule", "backfill", id, "--from", from, "--to", from, "--reprocess", "all")
	waitFor(t, 2*time.Minute, "the reprocessed date", func() bool { return len(scheduleRuns(t, id)) == 4 })
	for _, r := range scheduleRuns(t, id) {
		release(t, r.WorkflowID, r.RunID)
	}
}

// A schedule keeps the driver of its last successful run for log reading
// (successfulRunHistoryLimit, 1 when unset) and releases the older ones.
func TestScheduleKeepsItsLastSuccessfulDriver(t *testing.T) {
	t.Parallel()
	spec := testJob(t, nil, func(s *job.JobSpec) { s.TimeToLiveSeconds = nil })
	path, id := scheduledJob(t, "e2e-history", "0 3 * * *", "Forbid", nil, spec)
	mustKindling(t, "schedule", "apply", "-f", path, "--task-queue", stack.taskQueue)
	day := time.Now().UTC().AddDate(0, 0, -4).Format(time.DateOnly)
	next := time.Now().UTC().AddDate(0, 0, -3).Format(time.DateOnly)
	mustKindling(t, "schedule", "backfill", id, "--from", day, "--to", next)
	var runs []workflows.ScheduledRun
	waitFor(t, 3*time.Minute, "two runs to complete", func() bool {
		runs = scheduleRuns(t, id)
		return countState(runs, workflows.StateCompleted) == 2
	})
	newest, older := runs[0], runs[1]
	driversOf := func(r workflows.ScheduledRun) int {
		return countPods(t, job.LabelWorkflow+"="+job.WorkflowLabel(r.WorkflowID)+","+job.LabelSparkRole+"=driver")
	}
	waitFor(t, time.Minute, "the older run's driver to go", func() bool { return driversOf(older) == 0 })
	if n := driversOf(newest); n != 1 {
		t.Errorf("the newest successful run has %d driver pods; its schedule keeps 1 for its logs", n)
	}
	for _, r := range runs {
		release(t, r.WorkflowID, r.RunID)
	}
}

// A backfill of a schedule with jitter still starts each date (a jittered run fires up to the
// jitter after its nominal time), and --max-active 2 paces three dates from the CLI.
func TestBackfillWithJitterAndMaxActive(t *testing.T) {
	t.Parallel()
	path, id := scheduledJob(t, "e2e-jitter", "30 4 * * *", "Forbid", map[string]string{workflows.AnnotationJitter: "10m"}, testJob(t, nil))
	mustKindling(t, "schedule", "apply", "-f", path, "--task-queue", stack.taskQueue)
	from := time.Now().UTC().AddDate(0, 0, -8).Format(time.DateOnly)
	to := time.Now().UTC().AddDate(0, 0, -6).Format(time.DateOnly)
	out := mustKindling(t, "schedule", "backfill", id, "--from", from, "--to", to, "--max-active", "2")
	if !strings.Contains(out, "started 3 run(s)") {
		t.Fatalf("backfill said %q", out)
	}
	waitFor(t, 3*time.Minute, "three runs to complete", func() bool {
		return countState(scheduleRuns(t, id), workflows.StateCompleted) == 3
	})
	for _, r := range scheduleRuns(t, id) {
		if r.Nominal.Hour() != 4 || r.Nominal.Minute() != 30 {
			t.Errorf("run %s has nominal time %s; jitter must not move it", r.WorkflowID, r.Nominal)
		}
	}
}

// While a run still runs, Forbid skips the next fire time.
func TestScheduleSkipsWhileARunRuns(t *testing.T) {
	t.Parallel()
	spec := testJob(t, map[string]string{"emulator.kindling.dev/duration": "45s"})
	path, id := scheduledJob(t, "e2e-skip", "@every 15s", "Forbid", nil, spec)
	mustKindling(t, "schedule", "apply", "-f", path, "--task-queue", stack.taskQueue)
	waitFor(t, 2*time.Minute, "a skipped fire time", func() bool {
		return describeSchedule(t, id)["skippedOverlap"].(float64) >= 1
	})
	if runs := scheduleRuns(t, id); countState(runs, workflows.StateRunning) != 1 {
		t.Errorf("%d runs running, want 1", countState(runs, workflows.StateRunning))
	}
}

// Replace cancels the running job (never terminates it): its driver is gone before the next
// run starts.
func TestScheduleReplaceCancelsTheRunningJob(t *testing.T) {
	t.Parallel()
	spec := testJob(t, map[string]string{"emulator.kindling.dev/duration": "10m"})
	path, id := scheduledJob(t, "e2e-replace", "@every 30s", "Replace", nil, spec)
	mustKindling(t, "schedule", "apply", "-f", path, "--task-queue", stack.taskQueue)
	var runs []workflows.ScheduledRun
	waitFor(t, 3*time.Minute, "a second run to replace the first", func() bool {
		runs = scheduleRuns(t, id)
		return len(runs) >= 2 && countState(runs, workflows.StateCancelled) >= 1
	})
	mustKindling(t, "schedule", "pause", id)
	first := runs[len(runs)-1]
	second := runs[len(runs)-2]
	if first.State != workflows.StateCancelled || first.Closed == nil {
		t.Fatalf("first run %s is %s; want CANCELLED", first.WorkflowID, first.State)
	}
	if n := countPods(t, job.LabelWorkflow+"="+job.WorkflowLabel(first.WorkflowID)); n != 0 {
		t.Errorf("the replaced run still has %d pods", n)
	}
	if second.Started.Before(*first.Closed) {
		t.Errorf("second run started %s, before the first ended %s", second.Started, *first.Closed)
	}
}

// A failed run pauses a schedule with pause-on-failure, and the note names the run; resume
// goes on.
func TestFailedRunPausesTheSchedule(t *testing.T) {
	t.Parallel()
	spec := testJob(t, map[string]string{"emulator.kindling.dev/exit-code": "3"})
	path, id := scheduledJob(t, "e2e-pause-on-failure", "0 0 1 1 *", "Forbid",
		map[string]string{workflows.AnnotationPauseOnFailure: "true"}, spec)
	mustKindling(t, "schedule", "apply", "-f", path, "--task-queue", stack.taskQueue)
	mustKindling(t, "schedule", "trigger", id)
	var d map[string]any
	waitFor(t, 3*time.Minute, "the schedule to pause", func() bool {
		d = describeSchedule(t, id)
		return d["paused"] == true
	})
	runs := scheduleRuns(t, id)
	if len(runs) != 1 || runs[0].State != workflows.StateFailed {
		t.Fatalf("runs = %+v; want one FAILED", runs)
	}
	if note, _ := d["note"].(string); !strings.Contains(note, runs[0].WorkflowID) {
		t.Errorf("the pause note %q does not name the failed run %s", note, runs[0].WorkflowID)
	}
	out := mustKindling(t, "schedule", "describe", id)
	if !strings.Contains(out, "FAILED") || !strings.Contains(out, "exit code 3") {
		t.Errorf("describe does not show the failed run and its reason:\n%s", out)
	}
	mustKindling(t, "schedule", "resume", id)
	if d := describeSchedule(t, id); d["paused"] != false {
		t.Errorf("after resume: paused=%v", d["paused"])
	}
}

// Every ScheduledSparkApplication among the operator's examples applies unchanged.
func TestOperatorScheduledExamplesApply(t *testing.T) {
	t.Parallel()
	files := jobtest.ExampleFiles(t)
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if kind, _ := job.KindOf(data); kind != "ScheduledSparkApplication" {
			continue
		}
		n++
		s, _, err := job.ReadScheduled(data)
		if err != nil {
			t.Fatal(err)
		}
		id := workflows.ScheduleID(s.Namespace, s.Name)
		// A queue no worker polls: the example's runs must not start here.
		mustKindling(t, "schedule", "apply", "-f", f, "--task-queue", "kindling-e2e-nobody")
		d := describeSchedule(t, id)
		if next, _ := d["next"].([]any); len(next) == 0 {
			t.Errorf("%s: no next run times", f)
		}
		mustKindling(t, "schedule", "delete", id)
	}
	if n == 0 {
		t.Skip("no ScheduledSparkApplication among the operator's examples")
	}
}
