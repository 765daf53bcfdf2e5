package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/kindling-dev/kindling/activities"
	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/workflows"
)

const ns = "default"

// testJob is examples/spark-pi.yaml under a fresh name, with a short run and TTL 0 so the test
// can check that nothing is left behind.
func testJob(t *testing.T, annotations map[string]string, mutate ...func(*job.JobSpec)) job.JobSpec {
	t.Helper()
	data, err := os.ReadFile("../examples/spark-pi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := job.Read(data)
	if err != nil {
		t.Fatal(err)
	}
	spec.Name = "e2e-" + strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(t.Name(), "Test"), "_", "-"))
	spec.Driver.Annotations = map[string]string{"emulator.kindling.dev/duration": "3s"}
	for k, v := range annotations {
		spec.Driver.Annotations[k] = v
	}
	zero := int64(0)
	spec.TimeToLiveSeconds = &zero
	for _, m := range mutate {
		m(spec)
	}
	return *spec
}

// writeManifest writes spec as a SparkApplication manifest (its name, the test namespace) at path.
func writeManifest(t *testing.T, path string, spec job.JobSpec) {
	t.Helper()
	b, err := yaml.Marshal(map[string]any{"apiVersion": "sparkoperator.k8s.io/v1beta2", "kind": "SparkApplication",
		"metadata": map[string]any{"name": spec.Name, "namespace": ns}, "spec": spec.SparkApplicationSpec})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// jobFile writes spec as a manifest for `kindling submit -f` and returns its path.
func jobFile(t *testing.T, spec job.JobSpec) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "job.yaml")
	writeManifest(t, path, spec)
	return path
}

// freeAddr is a loopback address nothing listens on, for a process a test starts.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func start(t *testing.T, spec job.JobSpec, queue string) client.WorkflowRun {
	t.Helper()
	id := spec.Name + "-" + uuid.NewString()[:8]
	run, err := stack.temporal.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
		ID: id, TaskQueue: queue,
	}, workflows.WorkflowName, spec)
	if err != nil {
		t.Fatalf("start %s: %v", id, err)
	}
	t.Logf("started %s", id)
	return run
}

func result(t *testing.T, run client.WorkflowRun, timeout time.Duration) (workflows.JobResult, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var res workflows.JobResult
	err := run.Get(ctx, &res)
	if r, ok := workflows.ResultFromError(err); ok {
		return r, nil
	}
	if err == nil {
		saveHistory(t, run.GetID())
		b, _ := json.MarshalIndent(res, "", "  ")
		t.Logf("result of %s:\n%s", run.GetID(), b)
	}
	return res, err
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func countPods(t *testing.T, selector string) int {
	t.Helper()
	l, err := stack.kube.Kube.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range l.Items {
		if p.DeletionTimestamp == nil {
			n++
		}
	}
	return n
}

// assertNothingLeft: no pod, service or ConfigMap of the job (any run of it) remains (TTL 0).
func assertNothingLeft(t *testing.T, workflowID string, res workflows.JobResult) {
	t.Helper()
	selectors := []string{job.LabelWorkflow + "=" + job.WorkflowLabel(workflowID)}
	for _, a := range res.Attempts {
		if a.AppID != "" {
			selectors = append(selectors, job.LabelSparkAppID+"="+a.AppID)
		}
	}
	ctx := context.Background()
	for _, sel := range selectors {
		opts := metav1.ListOptions{LabelSelector: sel}
		pods, err := stack.kube.Kube.CoreV1().Pods(ns).List(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		svcs, _ := stack.kube.Kube.CoreV1().Services(ns).List(ctx, opts)
		cms, _ := stack.kube.Kube.CoreV1().ConfigMaps(ns).List(ctx, opts)
		var left []string
		for _, p := range pods.Items {
			left = append(left, "pod/"+p.Name)
		}
		for _, s := range svcs.Items {
			left = append(left, "service/"+s.Name)
		}
		for _, c := range cms.Items {
			left = append(left, "configmap/"+c.Name)
		}
		if len(left) > 0 {
			t.Errorf("left behind after the job ended (%s): %v", sel, left)
		}
	}
}

// saveHistory writes the run's history for workflows' replay test when asked to.
func saveHistory(t *testing.T, id string) {
	saveHistoryAs(t, id, strings.TrimPrefix(t.Name(), "Test"))
}

// saveHistoryAs saves workflow id's history as testdata/histories/e2e-<set><name>.json, when
// KINDLING_SAVE_HISTORIES=1.
func saveHistoryAs(t *testing.T, id, name string) {
	if os.Getenv("KINDLING_SAVE_HISTORIES") != "1" {
		return
	}
	out, err := exec.Command(stack.tools["TEMPORAL"], "workflow", "show", "--workflow-id", id, "--output", "json").Output()
	if err != nil {
		t.Logf("save history of %s: %v", id, err)
		return
	}
	// Append-only: a history that exists stays as recorded, so older runs keep replaying.
	path := filepath.Join("..", "workflows", "testdata", "histories", "e2e-"+os.Getenv("KINDLING_SAVE_HISTORIES_SET")+name+".json")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		t.Logf("save history (set KINDLING_SAVE_HISTORIES_SET to a new prefix): %v", err)
		return
	}
	defer f.Close()
	if _, err := f.Write(out); err != nil {
		t.Logf("save history: %v", err)
	}
}

func TestSucceedsWithExecutors(t *testing.T) {
	spec := testJob(t, map[string]string{"emulator.kindling.dev/duration": "10s"})
	run := start(t, spec, stack.taskQueue)
	sel := job.LabelWorkflow + "=" + job.WorkflowLabel(run.GetID()) + "," + job.LabelSparkRole + "=driver"
	waitFor(t, 90*time.Second, "the driver pod", func() bool { return countPods(t, sel) == 1 })
	var appID string
	waitFor(t, 90*time.Second, "two executors", func() bool {
		st, err := queryStatus(run)
		if err == nil {
			appID = st.AppID
		}
		return appID != "" && countPods(t, job.LabelSparkAppID+"="+appID+","+job.LabelSparkRole+"=executor") == 2
	})
	// The status query itself (the UI's Queries tab, `temporal workflow query`) shows them.
	waitFor(t, 30*time.Second, "the status query to show two executors running", func() bool {
		v, err := stack.temporal.QueryWorkflow(context.Background(), run.GetID(), run.GetRunID(), workflows.QueryStatus)
		var st workflows.Status
		return err == nil && v.Get(&st) == nil && st.Stage == workflows.StageSupervising && st.ExecutorsRunning == 2 && st.DriverPhase == "Running"
	})
	res, err := result(t, run, 3*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if res.State != workflows.StateCompleted || len(res.Attempts) != 1 {
		t.Fatalf("state %s with %d attempts (%s), want COMPLETED in one", res.State, len(res.Attempts), res.Reason)
	}
	a := res.Attempts[0]
	if a.AppID != appID || a.DriverMemory != "896Mi" || a.ExitCode != 0 {
		t.Errorf("attempt = %+v, want app %s, driver memory 896Mi (512m + 384Mi overhead), exit 0", a, appID)
	}
	assertNothingLeft(t, run.GetID(), res)
}

func queryStatus(run client.WorkflowRun) (workflows.Status, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return workflows.LiveStatus(ctx, stack.temporal, nil, run.GetID(), run.GetRunID())
}

func TestAppFailureReportsItsExitCode(t *testing.T) {
	spec := testJob(t, map[string]string{"emulator.kindling.dev/exit-code": "3"})
	run := start(t, spec, stack.taskQueue)
	res, err := result(t, run, 3*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if res.State != workflows.StateFailed || !strings.Contains(res.Reason, "exit code 3") {
		t.Fatalf("state %s, reason %q: want FAILED with exit code 3", res.State, res.Reason)
	}
	// Failed where Temporal users look: the run's status, and its failure's message.
	d, err := stack.temporal.DescribeWorkflowExecution(context.Background(), run.GetID(), run.GetRunID())
	if err != nil {
		t.Fatal(err)
	}
	if st := d.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_FAILED {
		t.Errorf("temporal workflow describe shows %s, want Failed", st)
	}
	var appErr *temporal.ApplicationError
	if err := run.Get(context.Background(), nil); !errors.As(err, &appErr) || appErr.Type() != workflows.ErrJobFailed || !strings.Contains(appErr.Message(), "exit code 3") {
		t.Errorf("the workflow's failure is %v, want %s saying exit code 3", err, workflows.ErrJobFailed)
	}
	if len(res.Attempts) != 1 || res.Attempts[0].ExitCode != 3 {
		t.Fatalf("attempts = %+v, want one with exit code 3 (restartPolicy Never)", res.Attempts)
	}
	assertNothingLeft(t, run.GetID(), res)
}

func TestOOMKilledDriverRetriesWithMoreMemory(t *testing.T) {
	// 512m asks 896Mi; below 1000Mi the emulator OOMKills the driver. The next attempt's
	// overhead is 384Mi × 1.5 = 576Mi: 1088Mi, enough.
	spec := testJob(t, map[string]string{"emulator.kindling.dev/oom-below": "1000Mi"}, func(s *job.JobSpec) {
		retries, interval := int32(2), int64(1)
		s.RestartPolicy = job.RestartPolicy{Type: job.RestartOnFailure, OnFailureRetries: &retries, OnFailureRetryInterval: &interval}
	})
	run := start(t, spec, stack.taskQueue)
	res, err := result(t, run, 4*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if res.State != workflows.StateCompleted || len(res.Attempts) != 2 {
		t.Fatalf("state %s after %d attempts (%s): want COMPLETED on the second", res.State, len(res.Attempts), res.Reason)
	}
	first, second := res.Attempts[0], res.Attempts[1]
	if first.Outcome != activities.OutcomeOOMKilled || first.ExitCode != 137 || first.DriverMemory != "896Mi" {
		t.Errorf("first attempt = %+v, want OOMKilled, exit 137, 896Mi", first)
	}
	if second.DriverMemory != "1088Mi" || second.DriverPod == first.DriverPod {
		t.Errorf("second attempt = %+v, want 1088Mi under a fresh driver name", second)
	}
	assertNothingLeft(t, run.GetID(), res)
}

func TestImagePullErrorFailsWithinItsBound(t *testing.T) {
	spec := testJob(t, map[string]string{"emulator.kindling.dev/image-pull-error": "true"}, func(s *job.JobSpec) {
		s.SparkConf = map[string]string{job.ConfImagePullTimeout: "20s"}
	})
	began := time.Now()
	run := start(t, spec, stack.taskQueue)
	res, err := result(t, run, 3*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(began)
	if res.State != workflows.StateFailed || len(res.Attempts) != 1 || res.Attempts[0].Outcome != activities.OutcomeImagePull {
		t.Fatalf("state %s, attempts %+v: want FAILED with %s", res.State, res.Attempts, activities.OutcomeImagePull)
	}
	if !strings.Contains(res.Reason, "cannot be pulled") {
		t.Errorf("reason %q does not say the image cannot be pulled", res.Reason)
	}
	if took > 90*time.Second {
		t.Errorf("took %s to give up on the image; the bound is 20s", took)
	}
	assertNothingLeft(t, run.GetID(), res)
}

func TestBadSpecFailsBeforeAnythingIsCreated(t *testing.T) {
	spec := testJob(t, nil, func(s *job.JobSpec) {
		s.Driver.Memory = "lots"
		s.RestartPolicy.Type = "Sometimes"
	})
	run := start(t, spec, stack.taskQueue)
	_, err := result(t, run, time.Minute)
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || ae.Type() != activities.ErrInvalidSpec {
		t.Fatalf("err = %v, want the workflow to fail with %s", err, activities.ErrInvalidSpec)
	}
	for _, field := range []string{"spec.driver.memory", "spec.restartPolicy.type"} {
		if !strings.Contains(ae.Message(), field) {
			t.Errorf("error %q does not name %s", ae.Message(), field)
		}
	}
	assertNothingLeft(t, run.GetID(), workflows.JobResult{})
}

func TestStartedFromTheUIsJSONInput(t *testing.T) {
	// What the UI's Start Workflow form sends: the bare spec as JSON, name and namespace beside it.
	input := `{"name": "e2e-from-ui", "namespace": "default", "type": "Scala",
		"image": "apache/spark:4.0.1", "mainClass": "org.apache.spark.examples.SparkPi",
		"mainApplicationFile": "local:///opt/spark/examples/jars/spark-examples.jar",
		"timeToLiveSeconds": 0,
		"driver": {"cores": 1, "memory": "512m", "serviceAccount": "spark",
		           "annotations": {"emulator.kindling.dev/duration": "3s"}},
		"executor": {"instances": 1, "cores": 1, "memory": "512m"}}`
	id := "e2e-from-ui-" + uuid.NewString()[:8]
	cmd := exec.Command(stack.tools["TEMPORAL"], "workflow", "start", "--type", workflows.WorkflowName,
		"--task-queue", stack.taskQueue, "--workflow-id", id, "--input", input)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("temporal workflow start: %v\n%s", err, out)
	}
	res, err := result(t, stack.temporal.GetWorkflow(context.Background(), id, ""), 3*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if res.State != workflows.StateCompleted {
		t.Fatalf("state %s (%s), want COMPLETED", res.State, res.Reason)
	}
	assertNothingLeft(t, id, res)
}

func TestCancelStopsTheJob(t *testing.T) {
	spec := testJob(t, map[string]string{"emulator.kindling.dev/duration": "10m"})
	run := start(t, spec, stack.taskQueue)
	var appID string
	waitFor(t, 90*time.Second, "executors running", func() bool {
		st, err := queryStatus(run)
		appID = st.AppID
		return err == nil && st.ExecutorsRunning == 2
	})
	if err := stack.temporal.CancelWorkflow(context.Background(), run.GetID(), ""); err != nil {
		t.Fatal(err)
	}
	res, err := result(t, run, 2*time.Minute)
	if err != nil {
		t.Fatalf("cancelled job: %v", err)
	}
	if res.State != workflows.StateCancelled {
		t.Fatalf("state %s, want CANCELLED", res.State)
	}
	if n := countPods(t, job.LabelSparkAppID+"="+appID); n != 0 {
		t.Errorf("%d pods of app %s still running after cancel", n, appID)
	}
	assertNothingLeft(t, run.GetID(), res)
}

func TestWorkerKilledDuringSupervisionResumes(t *testing.T) {
	t.Parallel() // its supervisor is taken over after the 2-minute heartbeat timeout
	w := newOwnWorker(t, stack.taskQueue+"-kill")
	spec := testJob(t, map[string]string{"emulator.kindling.dev/duration": "40s"})
	run := start(t, spec, w.queue)
	drivers := countDrivers(t, run.GetID())
	waitFor(t, 90*time.Second, "supervision with executors running", func() bool {
		st, err := queryStatus(run)
		return err == nil && st.Stage == workflows.StageSupervising && st.ExecutorsRunning == 2
	})
	w.kill()
	t.Log("worker killed with SIGKILL during supervision")
	w.start()
	assertResumed(t, run, drivers, 1)
}
