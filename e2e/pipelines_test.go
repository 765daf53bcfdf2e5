package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/workflows"
)

// pipelineFile writes a SparkPipeline whose tasks run the test job with the given driver
// annotations, and returns its path.
func pipelineFile(t *testing.T, name string, parallelism int, tasks []map[string]any, extraSpec map[string]any) string {
	t.Helper()
	dir := t.TempDir()
	var out []map[string]any
	for _, task := range tasks {
		ann, _ := task["annotations"].(map[string]string)
		spec := testJob(t, ann, func(s *job.JobSpec) {
			if args, ok := task["arguments"].([]string); ok {
				s.Arguments = args
			}
			if ttl, ok := task["ttl"].(int64); ok {
				s.TimeToLiveSeconds = &ttl
			}
		})
		file := task["name"].(string) + ".yaml"
		spec.Name = name + "-" + task["name"].(string)
		writeManifest(t, filepath.Join(dir, file), spec)
		entry := map[string]any{"name": task["name"], "application": map[string]any{"file": file}}
		for _, k := range []string{"dependencies", "depends", "when"} {
			if v, ok := task[k]; ok {
				entry[k] = v
			}
		}
		out = append(out, entry)
	}
	doc := map[string]any{
		"apiVersion": "kindling.dev/v1alpha1", "kind": "SparkPipeline",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec":     map[string]any{"parallelism": parallelism, "tasks": out},
	}
	for k, v := range extraSpec {
		doc["spec"].(map[string]any)[k] = v
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "pipeline.yaml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func diamondTasks(c map[string]string) []map[string]any {
	long := map[string]string{"emulator.kindling.dev/duration": "8s"}
	if c == nil {
		c = long
	}
	return []map[string]any{
		{"name": "a"},
		{"name": "b", "dependencies": []string{"a"}, "annotations": long},
		{"name": "c", "dependencies": []string{"a"}, "annotations": c},
		{"name": "d", "dependencies": []string{"b", "c"}},
	}
}

func pipelineResult(t *testing.T, id string) workflows.PipelineResult {
	t.Helper()
	var res workflows.PipelineResult
	err := stack.temporal.GetWorkflow(context.Background(), id, "").Get(context.Background(), &res)
	if err != nil {
		r, ok := workflows.PipelineResultFromError(err)
		if !ok {
			t.Fatalf("pipeline %s: %v", id, err)
		}
		res = r
	}
	return res
}

// A diamond A→{B,C}→D runs B and C at once with parallelism 2, one after the other with 1.
func TestPipelineDiamondRunsBranchesInParallel(t *testing.T) {
	t.Parallel()
	for _, p := range []int{2, 1} {
		t.Run(fmt.Sprintf("parallelism-%d", p), func(t *testing.T) {
			t.Parallel()
			id := fmt.Sprintf("e2e-diamond-%d-%d", p, time.Now().UnixNano())
			path := pipelineFile(t, fmt.Sprintf("diamond%d", p), p, diamondTasks(nil), nil)
			mustKindling(t, "pipeline", "submit", "-f", path, "--id", id, "--task-queue", stack.taskQueue, "--wait")
			res := pipelineResult(t, id)
			b, c := res.Tasks["b"], res.Tasks["c"]
			overlap := b.StartedAt.Before(*c.EndedAt) && c.StartedAt.Before(*b.EndedAt)
			if overlap != (p == 2) {
				t.Errorf("parallelism %d: b %s–%s, c %s–%s; overlap %v", p, b.StartedAt, b.EndedAt, c.StartedAt, c.EndedAt, overlap)
			}
			if d, c := res.Tasks["d"], res.Tasks["c"]; d.StartedAt.Before(*c.EndedAt) {
				t.Errorf("d started before c ended")
			}
			for _, n := range []string{"a", "b", "c", "d"} {
				r := res.Tasks[n]
				if r.State != workflows.TaskSucceeded || r.Job == nil || r.Job.State != workflows.StateCompleted {
					t.Errorf("task %s: %+v", n, r)
				}
				assertNothingLeft(t, r.WorkflowID, *r.Job)
			}
		})
	}
}

// C failing stops D; B, already running, finishes; the pipeline fails with C's reason, and
// `pipeline submit --wait` exits 1.
func TestPipelineFailedTaskStopsItsDownstream(t *testing.T) {
	t.Parallel()
	id := fmt.Sprintf("e2e-diamond-fail-%d", time.Now().UnixNano())
	path := pipelineFile(t, "failing", 2, diamondTasks(map[string]string{"emulator.kindling.dev/exit-code": "3"}), nil)
	out, code := kindling(t, "pipeline", "submit", "-f", path, "--id", id, "--task-queue", stack.taskQueue, "--wait")
	if code != 1 || !strings.Contains(out, "task c failed: app failed with exit code 3") {
		t.Errorf("submit --wait exited %d; want 1 and c's reason", code)
	}
	res := pipelineResult(t, id)
	want := map[string]string{"a": workflows.TaskSucceeded, "b": workflows.TaskSucceeded, "c": workflows.TaskFailed, "d": workflows.TaskOmitted}
	for n, s := range want {
		if res.Tasks[n].State != s {
			t.Errorf("task %s is %s, want %s", n, res.Tasks[n].State, s)
		}
	}
	if res.State != workflows.StateFailed {
		t.Errorf("pipeline %s, want FAILED", res.State)
	}
	d, err := stack.temporal.DescribeWorkflowExecution(context.Background(), id, "")
	if err != nil || d.GetWorkflowExecutionInfo().GetStatus().String() != "Failed" {
		t.Errorf("the pipeline's workflow is %v (%v); a failed pipeline must look failed", d.GetWorkflowExecutionInfo().GetStatus(), err)
	}
}

// A pipeline whose task c failed on bad input is resumed once the input is fixed: only c and d
// run again (a and b are reused from the first run), and a's output reaches d's arguments.
func TestPipelineResumeRunsOnlyWhatFailed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	input := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "e2e-resume-input-" + uuid.NewString()[:8], Namespace: ns},
		Data: map[string]string{"exit-code": "3"}}
	if _, err := stack.kube.Kube.CoreV1().ConfigMaps(ns).Create(ctx, input, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	defer stack.kube.Kube.CoreV1().ConfigMaps(ns).Delete(ctx, input.Name, metav1.DeleteOptions{})
	id := fmt.Sprintf("e2e-resume-%d", time.Now().UnixNano())
	path := pipelineFile(t, "resumed", 2, []map[string]any{
		{"name": "a", "annotations": map[string]string{"emulator.kindling.dev/termination-message": `{"rows": 42, "day": "2026-11-24"}`}},
		{"name": "b", "dependencies": []string{"a"}},
		{"name": "c", "dependencies": []string{"a"}, "annotations": map[string]string{"emulator.kindling.dev/outcome-from": input.Name}},
		{"name": "d", "dependencies": []string{"b", "c"}, "arguments": []string{"--rows={{ tasks.a.outputs.rows }}", "--day={{ tasks.a.outputs.day }}"}},
	}, nil)
	if out, code := kindling(t, "pipeline", "submit", "-f", path, "--id", id, "--task-queue", stack.taskQueue, "--wait"); code != 1 {
		t.Fatalf("first run exited %d, want 1 (c fails):\n%s", code, out)
	}
	first := pipelineResult(t, id)
	if first.Tasks["c"].State != workflows.TaskFailed || first.Tasks["d"].State != workflows.TaskOmitted {
		t.Fatalf("first run: c %s, d %s; want FAILED, OMITTED", first.Tasks["c"].State, first.Tasks["d"].State)
	}
	if got := first.Tasks["a"].Outputs["rows"]; got != "42" {
		t.Errorf("a's outputs %v, want rows 42", first.Tasks["a"].Outputs)
	}

	input.Data["exit-code"] = "0" // the input is fixed
	if _, err := stack.kube.Kube.CoreV1().ConfigMaps(ns).Update(ctx, input, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	id2 := id + "-resumed"
	out := mustKindling(t, "pipeline", "resume", id, "--id", id2, "--wait")
	if !strings.Contains(out, "resumed from "+id) || !strings.Contains(out, "reused: it succeeded in "+id) {
		t.Errorf("resume's report does not say what it reused:\n%s", out)
	}
	res := pipelineResult(t, id2)
	if res.State != workflows.StateCompleted || res.ResumedFrom != id {
		t.Fatalf("resumed run: %s (%s), resumed from %q", res.State, res.Reason, res.ResumedFrom)
	}
	for _, n := range []string{"a", "b"} {
		if r := res.Tasks[n]; r.ReusedFrom != id || r.WorkflowID != first.Tasks[n].WorkflowID {
			t.Errorf("task %s: reused from %q, job %s; want %s's job %s", n, r.ReusedFrom, r.WorkflowID, id, first.Tasks[n].WorkflowID)
		}
	}
	// The resumed run made exactly two jobs, c's and d's, each with one driver.
	var jobs []string
	waitFor(t, time.Minute, "the resumed run's jobs to be listed", func() bool {
		resp, err := stack.temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf("KindlingPipeline = '%s' AND WorkflowType = '%s'", id2, workflows.WorkflowName)})
		if err != nil {
			return false
		}
		jobs = jobs[:0]
		for _, e := range resp.GetExecutions() {
			jobs = append(jobs, e.GetExecution().GetWorkflowId())
		}
		return len(jobs) >= 2
	})
	slices.Sort(jobs)
	if want := []string{workflows.TaskWorkflowID(id2, "c", 1), workflows.TaskWorkflowID(id2, "d", 1)}; !slices.Equal(jobs, want) {
		t.Errorf("the resumed run's jobs are %v, want %v", jobs, want)
	}
	for _, n := range []string{"c", "d"} {
		if r := res.Tasks[n]; r.Job == nil || len(r.Job.Attempts) != 1 || r.Job.Attempts[0].DriverPod == "" || r.ReusedFrom != "" {
			t.Errorf("task %s ran %+v; want one attempt with a driver", n, r.Job)
		}
	}
	// a's output, from the first run, reached d's arguments in the second.
	var spec job.JobSpec
	it := stack.temporal.GetWorkflowHistory(ctx, res.Tasks["d"].WorkflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	ev, err := it.Next()
	if err != nil {
		t.Fatal(err)
	}
	if err := converter.GetDefaultDataConverter().FromPayload(ev.GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()[0], &spec); err != nil {
		t.Fatal(err)
	}
	if want := []string{"--rows=42", "--day=2026-11-24"}; !slices.Equal(spec.Arguments, want) {
		t.Errorf("d's arguments %q, want %q", spec.Arguments, want)
	}
}

// Cancelling a pipeline cancels its running job, whose driver is deleted, and leaves no pod.
func TestPipelineCancelLeavesNoPod(t *testing.T) {
	t.Parallel()
	id := fmt.Sprintf("e2e-pipeline-cancel-%d", time.Now().UnixNano())
	path := pipelineFile(t, "cancelled", 2, []map[string]any{
		{"name": "a", "annotations": map[string]string{"emulator.kindling.dev/duration": "10m"}},
		{"name": "b", "dependencies": []string{"a"}},
	}, nil)
	mustKindling(t, "pipeline", "submit", "-f", path, "--id", id, "--task-queue", stack.taskQueue)
	child := workflows.TaskWorkflowID(id, "a", 1)
	sel := job.LabelWorkflow + "=" + job.WorkflowLabel(child)
	waitFor(t, 2*time.Minute, "task a's driver to run", func() bool { return countPods(t, sel+","+job.LabelSparkRole+"=driver") == 1 })
	mustKindling(t, "pipeline", "cancel", id)
	res := pipelineResult(t, id)
	if res.State != workflows.StateCancelled || res.Tasks["a"].State != workflows.TaskCancelled || res.Tasks["b"].State != workflows.TaskOmitted {
		t.Errorf("after cancel: pipeline %s, a %s, b %s; want CANCELLED, CANCELLED, OMITTED", res.State, res.Tasks["a"].State, res.Tasks["b"].State)
	}
	if n := countPods(t, sel); n != 0 {
		t.Errorf("%d pods of task a left after the pipeline was cancelled", n)
	}
}

// A pipeline on a schedule: every task of a backfilled run gets the same {{ ds }}.
func TestScheduledPipelineTasksShareTheLogicalDate(t *testing.T) {
	t.Parallel()
	name := "e2e-sched-pipeline-" + fmt.Sprint(time.Now().UnixNano()%100000)
	keep := int64(600)
	args := []string{"--date={{ ds }}"}
	path := pipelineFile(t, name, 2, []map[string]any{
		{"name": "a", "arguments": args, "ttl": keep},
		{"name": "b", "dependencies": []string{"a"}, "arguments": args, "ttl": keep},
	}, map[string]any{"schedule": "0 1 * * *", "timeZone": "UTC", "concurrencyPolicy": "Forbid"})
	id := workflows.ScheduleID(ns, name)
	t.Cleanup(func() {
		_ = stack.temporal.ScheduleClient().GetHandle(context.Background(), id).Delete(context.Background())
	})
	mustKindling(t, "schedule", "apply", "-f", path, "--task-queue", stack.taskQueue)
	day := time.Now().UTC().AddDate(0, 0, -5)
	mustKindling(t, "schedule", "backfill", id, "--from", day.Format(time.DateOnly), "--to", day.Format(time.DateOnly))
	runID := workflows.ScheduledWorkflowID(id, time.Date(day.Year(), day.Month(), day.Day()+1, 1, 0, 0, 0, time.UTC))
	var res workflows.PipelineResult
	waitFor(t, 3*time.Minute, "the scheduled pipeline to end", func() bool {
		d, err := stack.temporal.DescribeWorkflowExecution(context.Background(), runID, "")
		return err == nil && d.GetWorkflowExecutionInfo().GetCloseTime() != nil
	})
	res = pipelineResult(t, runID)
	if res.State != workflows.StateCompleted || res.Dates == nil {
		t.Fatalf("pipeline %s: %s, dates %+v", runID, res.State, res.Dates)
	}
	want := "--date=" + day.Format(time.DateOnly)
	for _, n := range []string{"a", "b"} {
		r := res.Tasks[n]
		pods := driverPods(t, job.LabelWorkflow+"="+job.WorkflowLabel(r.WorkflowID))
		if len(pods) != 1 || !strings.Contains(strings.Join(pods[0].Spec.Containers[0].Args, " "), want) {
			var got []string
			for _, p := range pods {
				got = append(got, strings.Join(p.Spec.Containers[0].Args, " "))
			}
			t.Errorf("task %s: drivers %v; want one with %s", n, got, want)
		}
		release(t, r.WorkflowID, r.RunID)
	}
}
