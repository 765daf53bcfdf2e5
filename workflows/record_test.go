package workflows

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/kindling-dev/kindling/activities"
	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/k8s/pipeline"
	"github.com/kindling-dev/kindling/k8s/schedule"
)

// recordingSet names the files this recording writes: <recordingSet>-<name>.json. Histories
// are append-only: after a change to workflow code, name a new set; a file that exists is
// never rewritten, so the runs of every earlier version keep replaying.
const recordingSet = "pipeline-flow"

// TestRecordHistories runs real SparkJobs on a Temporal server, with the real (pure) Validate
// and Render and fake Kubernetes-facing activities, and saves their histories for
// TestReplayHistories. It only runs when asked:
//
//	KINDLING_RECORD_HISTORIES=1 [KINDLING_TEMPORAL_ADDRESS=127.0.0.1:7233] go test ./workflows -run TestRecordHistories
func TestRecordHistories(t *testing.T) {
	if os.Getenv("KINDLING_RECORD_HISTORIES") != "1" {
		t.Skip("set KINDLING_RECORD_HISTORIES=1 to record histories on a Temporal server")
	}
	addr := os.Getenv("KINDLING_TEMPORAL_ADDRESS")
	if addr == "" {
		addr = "127.0.0.1:7233"
	}
	c := dial(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	registerSearchAttributes(ctx, t, c)
	f := &fakeKube{}
	queue := startWorker(t, c, f.FetchDependencies, f.CreateResources, f.Supervise, f.Cleanup)

	retry := func(s *job.JobSpec) {
		s.RestartPolicy = job.RestartPolicy{Type: job.RestartOnFailure, OnFailureRetries: i32(2), OnFailureRetryInterval: i64(1)}
	}
	for _, tc := range []struct {
		file  string
		spec  job.JobSpec
		state string
	}{
		{"sparkjob-success.json", recordSpec("success"), StateCompleted},
		{"sparkjob-oom-retry.json", recordSpec("oom", retry), StateCompleted},
		{"sparkjob-failed-ttl.json", recordSpec("fail"), StateFailed},
		{"sparkjob-success-ttl.json", recordSpec("success", func(s *job.JobSpec) { s.TimeToLiveSeconds = i64(2) }), StateCompleted},
	} {
		id := fmt.Sprintf("record-%s-%d", tc.file[:len(tc.file)-len(".json")], time.Now().UnixNano())
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, WorkflowName, tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		var res JobResult
		if err := run.Get(ctx, &res); err != nil {
			var ok bool
			if res, ok = ResultFromError(err); !ok {
				t.Fatalf("%s: %v", id, err)
			}
		}
		if res.State != tc.state {
			t.Fatalf("%s: state %s (%s), want %s", id, res.State, res.Reason, tc.state)
		}
		n := saveHistory(ctx, t, c, id, run.GetRunID(), tc.file)
		t.Logf("%s: %s, %d attempts, %d events", tc.file, res.State, len(res.Attempts), n)
		if tc.file == "sparkjob-success.json" {
			recordDated(ctx, t, c, queue)
			recordScheduled(ctx, t, c, queue)
		}
		if tc.file == "sparkjob-success.json" && n >= 100 {
			t.Errorf("a one-attempt success took %d events; the design wants well under 100", n)
		}
		child := CleanupWorkflowID(run.GetRunID())
		if tc.file == "sparkjob-success-ttl.json" {
			recordCancel(ctx, t, c, queue)
		}
		switch tc.file {
		case "sparkjob-failed-ttl.json":
			// Its CleanupAfter sleeps an hour; the recording has what it needs.
			_ = c.TerminateWorkflow(ctx, child, "", "history recorded")
		case "sparkjob-success-ttl.json":
			if _, err := c.DescribeWorkflowExecution(ctx, child, ""); err != nil {
				break // from versionKeepByMark on, no CleanupAfter: the objects carry their mark
			}
			if err := c.GetWorkflow(ctx, child, "").Get(ctx, nil); err != nil {
				t.Fatalf("CleanupAfter: %v", err)
			}
			saveHistory(ctx, t, c, child, "", "cleanupafter.json")
		}
	}
}

// recordCancel cancels a running job and checks what a client gets: a CanceledError that
// carries the CANCELLED result, after the driver was deleted.
func recordCancel(ctx context.Context, t *testing.T, c client.Client, queue string) {
	t.Helper()
	id := fmt.Sprintf("record-sparkjob-cancelled-%d", time.Now().UnixNano())
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, WorkflowName, recordSpec("cancel"))
	if err != nil {
		t.Fatal(err)
	}
	for {
		v, err := c.QueryWorkflow(ctx, id, "", QueryStatus)
		var st Status
		if err == nil && v.Get(&st) == nil && st.Stage == StageSupervising {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := c.CancelWorkflow(ctx, id, ""); err != nil {
		t.Fatal(err)
	}
	err = run.Get(ctx, nil)
	res, ok := ResultFromError(err)
	if !ok || res.State != StateCancelled {
		t.Fatalf("cancelled job returned %v (result %+v)", err, res)
	}
	n := saveHistory(ctx, t, c, id, run.GetRunID(), "sparkjob-cancelled.json")
	t.Logf("sparkjob-cancelled.json: %s (%s), %d events", res.State, res.Reason, n)
}

// recordDated records a job given its logical date by hand, with templates to fill.
func recordDated(ctx context.Context, t *testing.T, c client.Client, queue string) {
	t.Helper()
	id := fmt.Sprintf("record-sparkjob-dated-%d", time.Now().UnixNano())
	day := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, WorkflowName,
		recordSpec("success", func(s *job.JobSpec) { s.Arguments = []string{"--date={{ ds }}"} }), Carry{LogicalDate: &day})
	if err != nil {
		t.Fatal(err)
	}
	var res JobResult
	if err := run.Get(ctx, &res); err != nil || res.Dates == nil {
		t.Fatalf("dated job: %v, dates %+v", err, res.Dates)
	}
	n := saveHistory(ctx, t, c, id, run.GetRunID(), "sparkjob-dated.json")
	t.Logf("sparkjob-dated.json: %s, logical date %s, %d events", res.State, res.Dates.LogicalDate, n)
}

// recordScheduled records a run a Temporal schedule started (by a backfill of one night), so
// its history holds the nominal time Temporal gives it.
func recordScheduled(ctx context.Context, t *testing.T, c client.Client, queue string) {
	t.Helper()
	cron, _, err := schedule.Parse("0 2 * * *", "Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	id := fmt.Sprintf("record-schedule-%d", time.Now().UnixNano())
	ref := &ScheduleRef{ID: id, Cron: "0 2 * * *", TimeZone: "Europe/Berlin"}
	h, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID: id, Spec: cron.Spec(), Paused: true,
		Action: &client.ScheduleWorkflowAction{ID: id, Workflow: WorkflowName, TaskQueue: queue,
			Args: []any{recordSpec("success", func(s *job.JobSpec) { s.Arguments = []string{"--date={{ ds }}"} }), Carry{Schedule: ref}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = h.Delete(context.Background()) }()
	nominal := time.Date(2026, 11, 25, 1, 0, 0, 0, time.UTC) // 02:00 in Berlin
	if err := h.Backfill(ctx, client.ScheduleBackfillOptions{Backfill: []client.ScheduleBackfill{
		{Start: nominal.Add(-time.Second), End: nominal, Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL}}}); err != nil {
		t.Fatal(err)
	}
	wid := ScheduledWorkflowID(id, nominal)
	var res JobResult
	for {
		err := c.GetWorkflow(ctx, wid, "").Get(ctx, &res)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("scheduled run %s: %v", wid, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if res.Dates == nil || res.Dates.Values()["ds"] != "2026-11-24" {
		t.Fatalf("scheduled run %s stands for %+v, want 2026-11-24", wid, res.Dates)
	}
	// It keeps its driver for the schedule's successfulRunHistoryLimit; the recording has what it needs.
	d, err := c.DescribeWorkflowExecution(ctx, wid, "")
	if err != nil {
		t.Fatal(err)
	}
	_ = c.TerminateWorkflow(ctx, CleanupWorkflowID(d.GetWorkflowExecutionInfo().GetExecution().GetRunId()), "", "history recorded")
	n := saveHistory(ctx, t, c, wid, "", "sparkjob-scheduled.json")
	t.Logf("sparkjob-scheduled.json: logical date %s, %d events", res.Dates.LogicalDate, n)
}

func recordSpec(name string, mutate ...func(*job.JobSpec)) job.JobSpec {
	s := job.JobSpec{Name: "record-" + name, Namespace: "default"}
	s.Type = job.TypeScala
	s.Mode = job.ModeCluster
	s.Image = "docker.io/apache/spark:4.0.4"
	s.MainClass = "org.apache.spark.examples.SparkPi"
	s.MainApplicationFile = "local:///opt/spark/examples/jars/spark-examples.jar"
	s.SparkVersion = "4.0.4"
	s.Arguments = []string{"1000"}
	cores, instances := int32(1), int32(1)
	s.Driver.Cores = &cores
	s.Driver.Memory = "512m"
	s.Executor.Cores = &cores
	s.Executor.Instances = &instances
	s.Executor.Memory = "512m"
	for _, m := range mutate {
		m(&s)
	}
	return s
}

// fakeKube stands in for the activities that talk to Kubernetes: the job's name says what
// its driver does.
type fakeKube struct {
	mu       sync.Mutex
	attempts map[string]int
}

func (f *fakeKube) FetchDependencies(_ context.Context, in activities.FetchDependenciesInput) (activities.FetchDependenciesOutput, error) {
	return activities.FetchDependenciesOutput{Dependencies: []activities.Dependency{
		{URI: in.Spec.MainApplicationFile, Kind: "mainApplicationFile", Note: "in the image"},
	}}, nil
}

func (f *fakeKube) CreateResources(_ context.Context, in activities.CreateInput) (activities.CreateOutput, error) {
	return activities.CreateOutput{DriverPod: in.Rendered.Names.DriverPod, DriverUID: "uid-" + in.Rendered.AppID}, nil
}

func (f *fakeKube) Supervise(ctx context.Context, in activities.SuperviseInput) (activities.SuperviseOutput, error) {
	activity.RecordHeartbeat(ctx, activities.SuperviseProgress{DriverPhase: "Running", ExecutorsRunning: 1})
	f.mu.Lock()
	if f.attempts == nil {
		f.attempts = map[string]int{}
	}
	key := activity.GetInfo(ctx).WorkflowExecution.ID
	f.attempts[key]++
	n := f.attempts[key]
	f.mu.Unlock()
	switch {
	case strings.HasPrefix(in.DriverPod, "record-cancel-"):
		// Runs until the workflow is cancelled; the cancel arrives with a heartbeat response.
		for {
			select {
			case <-ctx.Done():
				return activities.SuperviseOutput{}, ctx.Err()
			case <-time.After(200 * time.Millisecond):
				activity.RecordHeartbeat(ctx, activities.SuperviseProgress{DriverPhase: "Running", ExecutorsRunning: 1})
			}
		}
	case strings.HasPrefix(in.DriverPod, "record-oom-") && n == 1:
		return activities.SuperviseOutput{Outcome: activities.OutcomeOOMKilled, ExitCode: 137, Reason: "driver container OOMKilled (exit 137)",
			Progress: activities.SuperviseProgress{DriverPhase: "Failed"}}, nil
	case strings.HasPrefix(in.DriverPod, "record-output-"):
		return activities.SuperviseOutput{Outcome: activities.OutcomeSucceeded, Reason: "driver completed", Output: `{"rows": 42, "table": "sales"}`,
			Progress: activities.SuperviseProgress{DriverPhase: "Succeeded"}}, nil
	case strings.HasPrefix(in.DriverPod, "record-fail-"):
		return activities.SuperviseOutput{Outcome: activities.OutcomeAppFailed, ExitCode: 3, Reason: "app failed with exit code 3",
			Progress: activities.SuperviseProgress{DriverPhase: "Failed", ExecutorsFailed: 0}}, nil
	}
	return activities.SuperviseOutput{Outcome: activities.OutcomeSucceeded, Reason: "driver completed",
		Progress: activities.SuperviseProgress{DriverPhase: "Succeeded"}}, nil
}

func (f *fakeKube) Cleanup(context.Context, activities.CleanupInput) error { return nil }

func registerSearchAttributes(ctx context.Context, t *testing.T, c client.Client) {
	t.Helper()
	types := map[string]enumspb.IndexedValueType{"Keyword": enumspb.INDEXED_VALUE_TYPE_KEYWORD, "Int": enumspb.INDEXED_VALUE_TYPE_INT, "Datetime": enumspb.INDEXED_VALUE_TYPE_DATETIME}
	have, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, typ := range SearchAttributes {
		if _, ok := have.GetCustomAttributes()[name]; !ok {
			missing[name] = types[typ]
		}
	}
	if len(missing) == 0 {
		return
	}
	if _, err := c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: "default", SearchAttributes: missing}); err != nil {
		t.Fatal(err)
	}
}

// saveHistory writes a run's history as `temporal workflow show --output json` does.
func saveHistory(ctx context.Context, t *testing.T, c client.Client, id, runID, file string) int {
	t.Helper()
	var events []*historypb.HistoryEvent
	it := c.GetWorkflowHistory(ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, e)
	}
	data, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(&historypb.History{Events: events})
	if err != nil {
		t.Fatal(err)
	}
	path, err := newHistoryPath(filepath.Join("testdata", "histories"), recordingSet+"-"+file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	return len(events)
}

// TestRecordContinueAsNew records the first run of a restartPolicy Always job: MaxAttempts
// attempts, then continue-as-new. It only runs when asked:
//
//	KINDLING_RECORD_CONTINUE_AS_NEW=1 go test ./workflows -run TestRecordContinueAsNew
func TestRecordContinueAsNew(t *testing.T) {
	if os.Getenv("KINDLING_RECORD_CONTINUE_AS_NEW") != "1" {
		t.Skip("set KINDLING_RECORD_CONTINUE_AS_NEW=1 to record a continue-as-new history on a Temporal server")
	}
	c := dial(t, "127.0.0.1:7233")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	registerSearchAttributes(ctx, t, c)
	f := &fakeKube{}
	queue := startWorker(t, c, f.FetchDependencies, f.CreateResources, f.Supervise, f.Cleanup)

	id := fmt.Sprintf("record-always-%d", time.Now().UnixNano())
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, WorkflowName,
		recordSpec("always", func(s *job.JobSpec) { s.RestartPolicy = job.RestartPolicy{Type: job.RestartAlways} }))
	if err != nil {
		t.Fatal(err)
	}
	first := run.GetRunID()
	for {
		d, err := c.DescribeWorkflowExecution(ctx, id, first)
		if err != nil {
			t.Fatal(err)
		}
		if d.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	_ = c.TerminateWorkflow(ctx, id, "", "history recorded")
	n := saveHistory(ctx, t, c, id, first, "sparkjob-always-continued.json")
	t.Logf("sparkjob-always-continued.json: %d events", n)
}

// dial connects to the Temporal server at addr, failing the test when none answers.
func dial(t *testing.T, addr string) client.Client {
	t.Helper()
	if conn, err := net.DialTimeout("tcp", addr, 2*time.Second); err != nil {
		t.Fatalf("no Temporal server at %s: %v", addr, err)
	} else {
		conn.Close()
	}
	c, err := client.Dial(client.Options{HostPort: addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// startWorker runs SparkJob with the real (pure) Validate and Render and the given stand-ins
// for FetchDependencies, CreateResources, Supervise and Cleanup, on a queue of its own so a
// running Kindling worker does not take these jobs. It returns the queue.
func startWorker(t *testing.T, c client.Client, fetch, create, supervise, cleanup any) string {
	t.Helper()
	queue := fmt.Sprintf("kindling-test-%d", time.Now().UnixNano())
	w := worker.New(c, queue, worker.Options{})
	Register(w)
	real := &activities.Activities{}
	w.RegisterActivityWithOptions(real.Validate, activity.RegisterOptions{Name: "Validate"})
	w.RegisterActivityWithOptions(real.Render, activity.RegisterOptions{Name: "Render"})
	w.RegisterActivityWithOptions(real.ValidatePipeline, activity.RegisterOptions{Name: "ValidatePipeline"})
	w.RegisterActivityWithOptions((&activities.Activities{Temporal: c}).PruneRuns, activity.RegisterOptions{Name: "PruneRuns"})
	w.RegisterActivityWithOptions(func(context.Context, activities.KeepInput) (activities.KeepOutput, error) {
		return activities.KeepOutput{}, nil // no cluster: nothing to mark
	}, activity.RegisterOptions{Name: "KeepObjects"})
	for name, fn := range map[string]any{"FetchDependencies": fetch, "CreateResources": create, "Supervise": supervise, "Cleanup": cleanup} {
		w.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return queue
}

// newHistoryPath is where a new recording goes in dir; a file that exists is an error, never
// overwritten: saved histories are append-only, so every earlier version keeps replaying.
func newHistoryPath(dir, file string) (string, error) {
	path := filepath.Join(dir, file)
	if _, err := os.Stat(path); err == nil {
		return "", fmt.Errorf("%s exists: saved histories are append-only; name a new recordingSet", path)
	}
	return path, os.MkdirAll(dir, 0o755)
}

func TestRecordingNeverOverwritesAHistory(t *testing.T) {
	dir := t.TempDir()
	if _, err := newHistoryPath(dir, "a.json"); err != nil {
		t.Fatalf("a new file was refused: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := newHistoryPath(dir, "a.json"); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("an existing history may be overwritten: %v", err)
	}
	for _, f := range []string{"sparkjob-success.json", "run-identity-sparkjob-success.json"} {
		if _, err := newHistoryPath(filepath.Join("testdata", "histories"), f); err == nil {
			t.Errorf("the saved %s could be recorded over", f)
		}
	}
}

// TestRecordPipeline records a diamond pipeline whose task c fails, with onExit and a logical
// date every task shares, for the replay test. It only runs when asked:
//
//	KINDLING_RECORD_PIPELINE=1 go test ./workflows -run TestRecordPipeline
func TestRecordPipeline(t *testing.T) {
	if os.Getenv("KINDLING_RECORD_PIPELINE") != "1" {
		t.Skip("set KINDLING_RECORD_PIPELINE=1 to record a pipeline history on a Temporal server")
	}
	c := dial(t, "127.0.0.1:7233")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	registerSearchAttributes(ctx, t, c)
	f := &fakeKube{}
	queue := startWorker(t, c, f.FetchDependencies, f.CreateResources, f.Supervise, f.Cleanup)
	task := func(name, outcome string, deps ...string) pipeline.Task {
		return pipeline.Task{Name: name, Dependencies: deps, Job: recordSpec(outcome)}
	}
	exit := task("notify", "success")
	spec := pipeline.Spec{Name: "record", Namespace: "default", Parallelism: 2,
		Tasks:  []pipeline.Task{task("a", "success"), task("b", "success", "a"), task("c", "fail", "a"), task("d", "success", "b", "c")},
		OnExit: &exit}
	id := fmt.Sprintf("record-pipeline-%d", time.Now().UnixNano())
	for i := range spec.Tasks {
		spec.Tasks[i].Job.Arguments = []string{"--date={{ ds }}"}
	}
	day := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, PipelineWorkflowName, spec, Carry{LogicalDate: &day})
	if err != nil {
		t.Fatal(err)
	}
	err = run.Get(ctx, nil)
	res, ok := PipelineResultFromError(err)
	if !ok || res.State != StateFailed || res.Tasks["d"].State != TaskOmitted || res.Tasks["notify"].State != TaskSucceeded {
		t.Fatalf("pipeline ended %v with %+v", err, res)
	}
	// The failed job keeps its driver for an hour; the recording has what it needs.
	_ = c.TerminateWorkflow(ctx, CleanupWorkflowID(res.Tasks["c"].RunID), "", "history recorded")
	n := saveHistory(ctx, t, c, id, run.GetRunID(), "pipeline-dated.json")
	t.Logf("pipeline-dated.json: %s (%s), dates %+v, %d events", res.State, res.Reason, res.Dates, n)

	// depends, when, outputs, a handled failure; then a resume of that run.
	flow := pipeline.Spec{Name: "record-flow", Namespace: "default", Parallelism: 2, Tasks: []pipeline.Task{
		task("a", "output"),
		{Name: "b", Dependencies: []string{"a"}, When: "{{ tasks.a.outputs.rows }} > 100", Job: recordSpec("success")},
		task("c", "fail", "a"),
		{Name: "alert", Depends: "c.Failed", Job: recordSpec("success")},
		{Name: "d", Depends: "a && (b || c)", Job: recordSpec("success", func(s *job.JobSpec) {
			s.Arguments = []string{"--rows={{ tasks.a.outputs.rows }}", "--table={{ tasks.a.outputs.table }}"}
		})},
	}}
	id = fmt.Sprintf("record-pipeline-flow-%d", time.Now().UnixNano())
	run, err = c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, PipelineWorkflowName, flow, Carry{})
	if err != nil {
		t.Fatal(err)
	}
	res = PipelineResult{}
	err = run.Get(ctx, &res)
	if err != nil || res.Tasks["b"].State != TaskSkipped || res.Tasks["alert"].State != TaskSucceeded || res.Tasks["d"].State != TaskSucceeded {
		t.Fatalf("flow pipeline ended %v with %+v", err, res)
	}
	_ = c.TerminateWorkflow(ctx, CleanupWorkflowID(res.Tasks["c"].RunID), "", "history recorded")
	n = saveHistory(ctx, t, c, id, run.GetRunID(), "pipeline-depends-when-outputs.json")
	t.Logf("pipeline-depends-when-outputs.json: %s, %d events", res.State, n)

	resumed := fmt.Sprintf("record-pipeline-resume-%d", time.Now().UnixNano())
	run, err = c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: resumed, TaskQueue: queue}, PipelineWorkflowName, flow,
		Carry{Dates: res.Dates, Resume: &PipelineResume{From: id, Tasks: res.Tasks, Rerun: []string{"alert"}}})
	if err != nil {
		t.Fatal(err)
	}
	var again PipelineResult
	if err := run.Get(ctx, &again); err != nil || again.Tasks["a"].ReusedFrom != id || again.Tasks["alert"].ReusedFrom != "" {
		t.Fatalf("resumed pipeline ended %v with %+v", err, again)
	}
	_ = c.TerminateWorkflow(ctx, CleanupWorkflowID(again.Tasks["c"].RunID), "", "history recorded")
	n = saveHistory(ctx, t, c, resumed, run.GetRunID(), "pipeline-resume.json")
	t.Logf("pipeline-resume.json: %s, %d events", again.State, n)
}
