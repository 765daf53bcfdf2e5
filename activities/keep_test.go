package activities

import (
	"context"
	"slices"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kindling-dev/kindling/k8s/cluster"
	"github.com/kindling-dev/kindling/k8s/job"
)

// names lists what is left in namespace jobs: pods, services and ConfigMaps.
func names(t *testing.T, cs *fake.Clientset) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	pods, _ := cs.CoreV1().Pods("jobs").List(ctx, metav1.ListOptions{})
	for _, p := range pods.Items {
		out = append(out, p.Name)
	}
	svcs, _ := cs.CoreV1().Services("jobs").List(ctx, metav1.ListOptions{})
	for _, s := range svcs.Items {
		out = append(out, s.Name)
	}
	cms, _ := cs.CoreV1().ConfigMaps("jobs").List(ctx, metav1.ListOptions{})
	for _, c := range cms.Items {
		out = append(out, c.Name)
	}
	slices.Sort(out)
	return out
}

// marked is labelled(…) with a delete-after mark, and the Spark labels the pod watch follows.
func marked(name, run, attempt string, until time.Time) metav1.ObjectMeta {
	m := labelled("", name, run, attempt)
	m.Labels[job.LabelSparkAppID] = "spark-" + run
	m.Labels[job.LabelSparkRole] = job.SparkRoleDriver
	m.Annotations = map[string]string{job.AnnotationDeleteAfter: until.UTC().Format(time.RFC3339)}
	return m
}

// KeepObjects marks exactly the attempt's objects; the next attempt's, another run's and
// someone else's stay unmarked.
func TestKeepMarksTheAttemptAndNothingElse(t *testing.T) {
	cs := fake.NewClientset(
		&corev1.Pod{ObjectMeta: labelled("pod", "a-driver", "run-a", "1")},
		&corev1.Service{ObjectMeta: labelled("service", "a-driver-svc", "run-a", "1")},
		&corev1.ConfigMap{ObjectMeta: labelled("configmap", "a-conf", "run-a", "1")},
		&corev1.Pod{ObjectMeta: labelled("pod", "a2-driver", "run-a", "2")},
		&corev1.Pod{ObjectMeta: labelled("pod", "b-driver", "run-b", "1")},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "notebook", Namespace: "jobs"}},
	)
	a := &Activities{Cluster: cluster.Objects{Kube: cs}}
	until := time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC)
	out, err := a.KeepObjects(context.Background(), KeepInput{Namespace: "jobs", Selector: job.LabelRun + "=run-a," + job.LabelAttempt + "=1", Until: until})
	if err != nil {
		t.Fatal(err)
	}
	if out.Marked != 3 {
		t.Errorf("marked %d objects, want the attempt's 3", out.Marked)
	}
	ctx := context.Background()
	get := map[string]func(string) (metav1.Object, error){
		"pod": func(n string) (metav1.Object, error) {
			return cs.CoreV1().Pods("jobs").Get(ctx, n, metav1.GetOptions{})
		},
		"service": func(n string) (metav1.Object, error) {
			return cs.CoreV1().Services("jobs").Get(ctx, n, metav1.GetOptions{})
		},
		"configmap": func(n string) (metav1.Object, error) {
			return cs.CoreV1().ConfigMaps("jobs").Get(ctx, n, metav1.GetOptions{})
		},
	}
	for _, c := range []struct {
		kind, name string
		want       string
	}{
		{"pod", "a-driver", "2026-11-26T06:00:00Z"}, {"service", "a-driver-svc", "2026-11-26T06:00:00Z"},
		{"configmap", "a-conf", "2026-11-26T06:00:00Z"}, {"pod", "a2-driver", ""}, {"pod", "b-driver", ""}, {"pod", "notebook", ""},
	} {
		o, err := get[c.kind](c.name)
		if err != nil {
			t.Fatal(err)
		}
		if got := o.GetAnnotations()[job.AnnotationDeleteAfter]; got != c.want {
			t.Errorf("%s %s: delete-after %q, want %q", c.kind, c.name, got, c.want)
		}
	}
	if _, err := a.KeepObjects(context.Background(), KeepInput{Namespace: "jobs", Until: until}); err == nil {
		t.Error("a keep without a selector would mark every object of the namespace; it must be refused")
	}
}

// The worker deletes a kept attempt once its mark has passed: all of that attempt, nothing of
// an attempt still kept, and nothing that only looks marked but is not Kindling's.
func TestDeleteExpiredTakesOnlyWhatIsDue(t *testing.T) {
	now := time.Now()
	foreign := marked("their-driver", "run-x", "1", now.Add(-time.Hour))
	delete(foreign.Labels, job.LabelManagedBy)
	objs := []runtime.Object{
		&corev1.Pod{ObjectMeta: marked("a-driver", "run-a", "1", now.Add(-time.Second))},
		&corev1.Service{ObjectMeta: labelled("service", "a-driver-svc", "run-a", "1")},
		&corev1.ConfigMap{ObjectMeta: labelled("configmap", "a-conf", "run-a", "1")},
		&corev1.Pod{ObjectMeta: marked("b-driver", "run-b", "1", now.Add(time.Hour))},
		&corev1.ConfigMap{ObjectMeta: labelled("configmap", "b-conf", "run-b", "1")},
		&corev1.Pod{ObjectMeta: foreign},
		// A running job's executor with a mark a user gave it: only a driver's mark counts.
		&corev1.Pod{ObjectMeta: executorMarked("c-exec-1", "run-c", now.Add(-time.Hour))},
	}
	cs := fake.NewClientset(objs...)
	deleteCollectionByLabel(cs)
	a := &Activities{Cluster: cluster.Objects{Kube: cs}, Pods: watchOf(t, cs)}
	deleted, err := DeleteExpired(context.Background(), a, now)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"jobs/a-driver"}; !slices.Equal(deleted, want) {
		t.Errorf("deleted %q, want %q", deleted, want)
	}
	if got, want := names(t, cs), []string{"b-conf", "b-driver", "c-exec-1", "their-driver"}; !slices.Equal(got, want) {
		t.Errorf("left %q, want %q", got, want)
	}
}

// closedRuns answers the sweep as Temporal would for runs that all ended long ago, without a
// CleanupAfter, and counts what it was asked.
type closedRuns struct {
	WorkflowDescriber
	described []string
}

func (c *closedRuns) DescribeWorkflowExecution(_ context.Context, workflowID, runID string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	c.described = append(c.described, workflowID)
	if workflowID == CleanupWorkflowID("r") {
		return nil, serviceerror.NewNotFound("no such workflow")
	}
	return &workflowservice.DescribeWorkflowExecutionResponse{WorkflowExecutionInfo: &workflowpb.WorkflowExecutionInfo{
		Execution: &commonpb.WorkflowExecution{WorkflowId: workflowID, RunId: "r"},
		Status:    enumspb.WORKFLOW_EXECUTION_STATUS_FAILED}}, nil
}

// The sweep keeps a closed run's objects while their mark says so without asking Temporal,
// and deletes them once it has passed and Temporal says the run is closed.
func TestSweepHonoursTheMark(t *testing.T) {
	now := time.Now()
	withWorkflow := func(m metav1.ObjectMeta, wf string) metav1.ObjectMeta {
		m.Annotations = mapsWith(m.Annotations, job.AnnotationWorkflow, wf)
		m.Annotations[job.AnnotationRun] = "r"
		return m
	}
	cs := fake.NewClientset(
		&corev1.Pod{ObjectMeta: withWorkflow(marked("kept-driver", "run-kept", "1", now.Add(time.Hour)), "wf-kept")},
		&corev1.Pod{ObjectMeta: withWorkflow(marked("due-driver", "run-due", "1", now.Add(-time.Minute)), "wf-due")},
		&corev1.Pod{ObjectMeta: withWorkflow(labelled("pod", "terminated-driver", "run-terminated", "1"), "wf-terminated")},
	)
	deleteCollectionByLabel(cs)
	tc := &closedRuns{}
	a := &Activities{Cluster: cluster.Objects{Kube: cs}, Temporal: tc}
	out, err := a.Sweep(context.Background(), SweepInput{Namespace: "jobs"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(t, cs), []string{"kept-driver"}; !slices.Equal(got, want) {
		t.Errorf("left %q, want %q (deleted %q)", got, want, out.Deleted)
	}
	if out.Kept != 1 {
		t.Errorf("kept %d runs, want 1", out.Kept)
	}
	for _, wf := range tc.described {
		if wf == "wf-kept" {
			t.Errorf("the sweep asked Temporal about %s: its mark says all", wf)
		}
	}
}

func mapsWith(m map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for a, b := range m {
		out[a] = b
	}
	return out
}

// scheduleRuns lists a schedule's finished runs, newest first by close time.
type scheduleRuns struct {
	WorkflowDescriber
	runs      []string // run IDs, oldest first
	cancelled []string
}

func (s *scheduleRuns) ListWorkflow(context.Context, *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	var resp workflowservice.ListWorkflowExecutionsResponse
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i, r := range s.runs {
		closed := base.Add(time.Duration(i) * 24 * time.Hour)
		resp.Executions = append(resp.Executions, &workflowpb.WorkflowExecutionInfo{
			Execution: &commonpb.WorkflowExecution{WorkflowId: "nightly-" + r, RunId: r},
			Status:    enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED,
			StartTime: timestamppb.New(closed.Add(-time.Hour)), CloseTime: timestamppb.New(closed)})
	}
	return &resp, nil
}

func (s *scheduleRuns) CancelWorkflow(_ context.Context, workflowID, _ string) error {
	s.cancelled = append(s.cancelled, workflowID)
	return serviceerror.NewNotFound("no CleanupAfter")
}

// A schedule's run history limit releases the older runs' marked objects at once.
func TestPruneDeletesTheOlderRunsMarkedObjects(t *testing.T) {
	later := time.Now().Add(time.Hour)
	label := func(r string) string { return job.RunLabel(job.RunKey("nightly-"+r, r)) }
	cs := fake.NewClientset(
		&corev1.Pod{ObjectMeta: marked("day1-driver", label("day1"), "1", later)},
		&corev1.Pod{ObjectMeta: marked("day2-driver", label("day2"), "1", later)},
		&corev1.Pod{ObjectMeta: marked("day3-driver", label("day3"), "1", later)},
	)
	deleteCollectionByLabel(cs)
	tc := &scheduleRuns{runs: []string{"day1", "day2", "day3"}}
	a := &Activities{Cluster: cluster.Objects{Kube: cs}, Pods: watchOf(t, cs), Temporal: tc}
	out, err := a.PruneRuns(context.Background(), PruneInput{ScheduleID: "nightly", Status: enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED,
		Keep: 1, ExceptRunID: "day4", Namespace: "jobs"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"nightly-day2/day2", "nightly-day1/day1"}; !slices.Equal(out.Released, want) {
		t.Errorf("released %q, want %q", out.Released, want)
	}
	if got, want := names(t, cs), []string{"day3-driver"}; !slices.Equal(got, want) {
		t.Errorf("left %q, want the newest run's only", got)
	}
}

func executorMarked(name, run string, until time.Time) metav1.ObjectMeta {
	m := marked(name, run, "1", until)
	m.Labels[job.LabelSparkRole] = job.SparkRoleExecutor
	return m
}
