package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kindling-dev/kindling/activities"
	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/workflows"
)

// firstWorkflowTask is the event ID of a run's first WorkflowTaskCompleted: resetting there
// runs the whole workflow again, the usual way to re-run a failed job from the UI.
func firstWorkflowTask(t *testing.T, id, runID string) int64 {
	t.Helper()
	it := stack.temporal.GetWorkflowHistory(context.Background(), id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if e.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED {
			return e.GetEventId()
		}
	}
	t.Fatalf("no completed workflow task in %s", id)
	return 0
}

func driverPods(t *testing.T, selector string) []corev1.Pod {
	t.Helper()
	l, err := stack.kube.Kube.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{
		LabelSelector: selector + "," + job.LabelSparkRole + "=driver"})
	if err != nil {
		t.Fatal(err)
	}
	return l.Items
}

// A failed job is fixed (here: its input) and reset from the UI: the new run gets a driver
// of its own that completes, while the first run's failed driver is still kept for its TTL;
// the first run's delayed cleanup then removes only what the first run made.
func TestResetGivesARunItsOwnObjects(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	input := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "e2e-reset-input-" + uuid.NewString()[:8], Namespace: ns},
		Data: map[string]string{"exit-code": "3"}}
	if _, err := stack.kube.Kube.CoreV1().ConfigMaps(ns).Create(ctx, input, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	defer stack.kube.Kube.CoreV1().ConfigMaps(ns).Delete(ctx, input.Name, metav1.DeleteOptions{})
	spec := testJob(t, map[string]string{"emulator.kindling.dev/outcome-from": input.Name}, func(s *job.JobSpec) {
		ttl := int64(600)
		s.TimeToLiveSeconds = &ttl
	})
	first := start(t, spec, stack.taskQueue)
	res1, err := result(t, first, 3*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if res1.State != workflows.StateFailed {
		t.Fatalf("first run: %s (%s), want FAILED", res1.State, res1.Reason)
	}
	firstDriver := res1.Attempts[0].DriverPod

	// The user fixes the input and resets the failed run.
	input.Data["exit-code"] = "0"
	if _, err := stack.kube.Kube.CoreV1().ConfigMaps(ns).Update(ctx, input, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	reset, err := stack.temporal.ResetWorkflowExecution(ctx, &workflowservice.ResetWorkflowExecutionRequest{
		Namespace:                 "default",
		WorkflowExecution:         &commonpb.WorkflowExecution{WorkflowId: first.GetID(), RunId: first.GetRunID()},
		Reason:                    "input fixed",
		WorkflowTaskFinishEventId: firstWorkflowTask(t, first.GetID(), first.GetRunID()),
		RequestId:                 uuid.NewString(),
	})
	if err != nil {
		t.Fatal(err)
	}
	second := stack.temporal.GetWorkflow(ctx, first.GetID(), reset.GetRunId())
	res2, err := result(t, second, 3*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if res2.State != workflows.StateCompleted {
		t.Fatalf("reset run: %s (%s), want COMPLETED", res2.State, res2.Reason)
	}
	secondDriver := res2.Attempts[0].DriverPod
	if secondDriver == firstDriver || res2.AppID == res1.AppID {
		t.Fatalf("the reset run took over the first run's driver %s (app %s)", firstDriver, res1.AppID)
	}
	byWorkflow := job.LabelWorkflow + "=" + job.WorkflowLabel(first.GetID())
	if n := len(driverPods(t, byWorkflow)); n != 2 {
		t.Fatalf("%d drivers of the workflow, want both runs' (each kept for its TTL)", n)
	}

	// No workflow stays open to keep them (its row looked like a running job in the UI): the
	// closed runs' objects carry their delete-after mark.
	for _, r := range []string{first.GetRunID(), reset.GetRunId()} {
		if _, err := stack.temporal.DescribeWorkflowExecution(ctx, workflows.CleanupWorkflowID(r), ""); err == nil {
			t.Errorf("a CleanupAfter keeps run %s's objects open in Temporal", r)
		}
	}
	if res1.KeptUntil == nil || time.Until(*res1.KeptUntil) < 9*time.Minute {
		t.Fatalf("the first run's result says its driver is kept until %v, want 10 minutes on", res1.KeptUntil)
	}
	// The first run's time to live ends (a user shortens it by the mark) and its deletion
	// takes only its own.
	expireNow(t, ns, firstDriver)
	waitFor(t, time.Minute, "the first run's driver to go", func() bool {
		_, err := stack.kube.Kube.CoreV1().Pods(ns).Get(ctx, firstDriver, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
	if p, err := stack.kube.Kube.CoreV1().Pods(ns).Get(ctx, secondDriver, metav1.GetOptions{}); err != nil || p.DeletionTimestamp != nil {
		t.Fatalf("the first run's deletion touched the reset run's driver %s: %v", secondDriver, err)
	}
	expireNow(t, ns, secondDriver)
	waitFor(t, time.Minute, "the reset run's objects to go", func() bool {
		_, err := stack.kube.Kube.CoreV1().Pods(ns).Get(ctx, secondDriver, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
	assertNothingLeft(t, first.GetID(), res2)
}

// A log-shipping sidecar keeps the driver pod Running after Spark's container ended; the job
// ends with the driver container.
func TestSidecarJobEndsWithItsDriver(t *testing.T) {
	t.Parallel()
	spec := testJob(t, map[string]string{"emulator.kindling.dev/sidecars-keep-running": "true"}, func(s *job.JobSpec) {
		s.Driver.Sidecars = []corev1.Container{{Name: "log-shipper", Image: "fluent/fluent-bit:3.2"}}
	})
	run := start(t, spec, stack.taskQueue)
	res, err := result(t, run, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if res.State != workflows.StateCompleted {
		t.Fatalf("state %s (%s), want COMPLETED", res.State, res.Reason)
	}
	assertNothingLeft(t, run.GetID(), res)
}

// Spark deletes OOMKilled executors at once; the next attempt still gets more executor memory.
func TestExecutorOOMKillsRaiseExecutorMemory(t *testing.T) {
	t.Parallel()
	// 512m executors ask 896Mi; below 1000Mi the emulator OOMKills them. The next attempt's
	// executor overhead is 384Mi × 1.5 = 576Mi: 1088Mi, enough.
	spec := testJob(t, map[string]string{"emulator.kindling.dev/executor-oom-below": "1000Mi"}, func(s *job.JobSpec) {
		retries, interval := int32(2), int64(1)
		s.RestartPolicy = job.RestartPolicy{Type: job.RestartOnFailure, OnFailureRetries: &retries, OnFailureRetryInterval: &interval}
	})
	run := start(t, spec, stack.taskQueue)
	res, err := result(t, run, 4*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if res.State != workflows.StateCompleted || len(res.Attempts) != 2 {
		t.Fatalf("state %s after %d attempts (%s), want COMPLETED on the second", res.State, len(res.Attempts), res.Reason)
	}
	if a, b := res.Attempts[0].ExecutorMemoryOverheadMiB, res.Attempts[1].ExecutorMemoryOverheadMiB; a != 384 || b != 576 {
		t.Fatalf("executor overheads %dMi then %dMi, want 384Mi then 576Mi", a, b)
	}
	assertNothingLeft(t, run.GetID(), res)
}

// A job terminated from the UI runs no cleanup; the sweep removes what it left.
func TestSweepRemovesATerminatedJobsObjects(t *testing.T) {
	t.Parallel()
	spec := testJob(t, map[string]string{"emulator.kindling.dev/duration": "10m"})
	run := start(t, spec, stack.taskQueue)
	sel := job.LabelWorkflow + "=" + job.WorkflowLabel(run.GetID())
	waitFor(t, 90*time.Second, "the driver to run", func() bool {
		pods := driverPods(t, sel)
		return len(pods) == 1 && pods[0].Status.Phase == corev1.PodRunning
	})
	ctx := context.Background()
	if err := stack.temporal.TerminateWorkflow(ctx, run.GetID(), "", "terminated from the UI"); err != nil {
		t.Fatal(err)
	}
	sweep, err := stack.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: "e2e-sweep-" + uuid.NewString()[:8], TaskQueue: stack.taskQueue,
	}, workflows.SweepWorkflowName, activities.SweepInput{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	var out activities.SweepOutput
	if err := sweep.Get(ctx, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(out.Deleted, "\n"), run.GetID()) {
		t.Fatalf("the sweep did not remove %s; it deleted %q", run.GetID(), out.Deleted)
	}
	waitFor(t, time.Minute, "the terminated job's pods to go", func() bool { return countPods(t, sel) == 0 })
	assertNothingLeft(t, run.GetID(), workflows.JobResult{})
}

// A node that goes away takes the driver with it; the attempt ends with a reason that names
// the node.
func TestDriverOnALostNodeNamesTheNode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	nodes, err := stack.kube.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil || len(nodes.Items) == 0 {
		t.Fatalf("no node to copy: %v", err)
	}
	// A node of its own, so the other tests' pods are not on it.
	node := nodes.Items[0].DeepCopy()
	name := "e2e-lost-" + uuid.NewString()[:8]
	node.ObjectMeta = metav1.ObjectMeta{Name: name, Annotations: node.Annotations,
		Labels: map[string]string{"type": "kwok", "kindling.dev/e2e-node": name}}
	node.Spec = corev1.NodeSpec{Taints: []corev1.Taint{{Key: "kindling.dev/e2e", Value: name, Effect: corev1.TaintEffectNoSchedule}}}
	node.Status = corev1.NodeStatus{Allocatable: node.Status.Allocatable, Capacity: node.Status.Capacity}
	if _, err := stack.kube.Kube.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	defer stack.kube.Kube.CoreV1().Nodes().Delete(ctx, name, metav1.DeleteOptions{})

	spec := testJob(t, map[string]string{"emulator.kindling.dev/duration": "10m"}, func(s *job.JobSpec) {
		zero := int32(0)
		s.Executor.Instances = &zero
		s.Driver.NodeSelector = map[string]string{"kindling.dev/e2e-node": name}
		s.Driver.Tolerations = []corev1.Toleration{{Key: "kindling.dev/e2e", Operator: corev1.TolerationOpEqual, Value: name, Effect: corev1.TaintEffectNoSchedule}}
	})
	run := start(t, spec, stack.taskQueue)
	sel := job.LabelWorkflow + "=" + job.WorkflowLabel(run.GetID())
	waitFor(t, 90*time.Second, "the driver to run on "+name, func() bool {
		pods := driverPods(t, sel)
		return len(pods) == 1 && pods[0].Spec.NodeName == name && pods[0].Status.Phase == corev1.PodRunning
	})
	if err := stack.kube.Kube.CoreV1().Nodes().Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := result(t, run, 4*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if res.State != workflows.StateFailed || !strings.Contains(res.Reason, name) {
		t.Fatalf("state %s, reason %q: want FAILED with a reason that names node %s", res.State, res.Reason, name)
	}
	t.Logf("reason: %s", res.Reason)
	assertNothingLeft(t, run.GetID(), res)
}

// A valid spark.kubernetes.executor.podNamePrefix names the executors, as Spark does.
func TestExecutorsTakeTheUsersPodNamePrefix(t *testing.T) {
	t.Parallel()
	prefix := "e2e-prefix-" + uuid.NewString()[:8]
	spec := testJob(t, map[string]string{"emulator.kindling.dev/duration": "20s"}, func(s *job.JobSpec) {
		s.SparkConf = map[string]string{"spark.kubernetes.executor.podNamePrefix": prefix}
	})
	run := start(t, spec, stack.taskQueue)
	sel := job.LabelWorkflow + "=" + job.WorkflowLabel(run.GetID()) + "," + job.LabelSparkRole + "=executor"
	var names []string
	waitFor(t, 90*time.Second, "two executors", func() bool {
		l, err := stack.kube.Kube.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			t.Fatal(err)
		}
		names = names[:0]
		for _, p := range l.Items {
			names = append(names, p.Name)
		}
		return len(names) == 2
	})
	for _, n := range names {
		if !strings.HasPrefix(n, prefix+"-exec-") {
			t.Errorf("executor %s does not carry the prefix %s", n, prefix)
		}
	}
	res, err := result(t, run, 2*time.Minute)
	if err != nil || res.State != workflows.StateCompleted {
		t.Fatalf("state %s (%s), err %v: want COMPLETED", res.State, res.Reason, err)
	}
	assertNothingLeft(t, run.GetID(), res)
}

// expireNow moves a kept driver's delete-after mark to now, as a user does to delete a
// finished job's objects before their time to live ends.
func expireNow(t *testing.T, ns, pod string) {
	t.Helper()
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, job.AnnotationDeleteAfter, time.Now().UTC().Format(time.RFC3339))
	if _, err := stack.kube.Kube.CoreV1().Pods(ns).Patch(context.Background(), pod, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatalf("mark %s to go now: %v", pod, err)
	}
}

// release ends the time to live of a finished run's kept objects, so a test leaves nothing.
func release(t *testing.T, workflowID, runID string) {
	t.Helper()
	sel := job.LabelRun + "=" + job.RunLabel(job.RunKey(workflowID, runID))
	pods, err := stack.kube.Kube.CoreV1().Pods("").List(context.Background(), metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		t.Errorf("list the pods of %s: %v", workflowID, err)
		return
	}
	for _, p := range pods.Items {
		if _, kept := p.Annotations[job.AnnotationDeleteAfter]; kept {
			expireNow(t, p.Namespace, p.Name)
		}
	}
}
