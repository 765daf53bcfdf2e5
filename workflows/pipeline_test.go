package workflows

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/kindling-dev/kindling/activities"
	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/k8s/pipeline"
)

// fakeJobs stands in for SparkJob children: each task's job runs for its duration and ends as
// its outcome says; it records when each ran.
type fakeJobs struct {
	mu       sync.Mutex
	env      *testsuite.TestWorkflowEnvironment
	duration map[string]time.Duration
	fail     map[string]int // task → how many of its tries fail
	tries    map[string]int
	spans    map[string][2]time.Time
	envSeen  map[string]string
	output   map[string]string      // task → what its driver writes as its termination message
	specs    map[string]job.JobSpec // task → the spec its last job got
}

func newPipelineEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, *fakeJobs) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetTestTimeout(30 * time.Second)
	Register(env)
	env.RegisterActivity(&activities.Activities{})
	f := &fakeJobs{env: env, duration: map[string]time.Duration{}, fail: map[string]int{}, tries: map[string]int{}, spans: map[string][2]time.Time{}, envSeen: map[string]string{},
		output: map[string]string{}, specs: map[string]job.JobSpec{}}
	env.OnWorkflow(WorkflowName, mock.Anything, mock.Anything, mock.Anything).Return(
		func(ctx workflow.Context, spec job.JobSpec, _ Carry) (JobResult, error) {
			task := spec.Name
			f.mu.Lock()
			f.tries[task]++
			try := f.tries[task]
			f.specs[task] = spec
			for _, e := range spec.Driver.Env {
				if e.Name == "KINDLING_PIPELINE_STATUS" {
					f.envSeen[task] = e.Value
				}
			}
			f.mu.Unlock()
			start := workflow.Now(ctx)
			d := f.duration[task]
			if d == 0 {
				d = time.Minute
			}
			if err := workflow.Sleep(ctx, d); err != nil {
				return JobResult{}, temporal.NewCanceledError(JobResult{State: StateCancelled, Reason: "cancelled while the driver ran"})
			}
			f.mu.Lock()
			f.spans[task] = [2]time.Time{start, workflow.Now(ctx)}
			f.mu.Unlock()
			if try <= f.fail[task] {
				res := JobResult{State: StateFailed, Reason: "app failed with exit code 3"}
				return JobResult{}, temporal.NewNonRetryableApplicationError(res.Reason, ErrJobFailed, nil, res)
			}
			return JobResult{State: StateCompleted, Output: f.output[task]}, nil
		})
	env.OnActivity(a.ValidatePipeline, mock.Anything, mock.Anything).Return(activities.ValidatePipelineOutput{}, nil)
	return env, f
}

func task(name string, deps ...string) pipeline.Task {
	s := spec()
	s.Name = name
	return pipeline.Task{Name: name, Dependencies: deps, Job: s}
}

func diamond(parallelism int) pipeline.Spec {
	return pipeline.Spec{Name: "etl", Namespace: "jobs", Parallelism: parallelism,
		Tasks: []pipeline.Task{task("a"), task("b", "a"), task("c", "a"), task("d", "b", "c")}}
}

func runPipeline(t *testing.T, env *testsuite.TestWorkflowEnvironment, s pipeline.Spec) (PipelineResult, error) {
	t.Helper()
	return runPipelineWith(t, env, s, Carry{})
}

func runPipelineWith(t *testing.T, env *testsuite.TestWorkflowEnvironment, s pipeline.Spec, carry Carry) (PipelineResult, error) {
	t.Helper()
	env.ExecuteWorkflow(PipelineWorkflowName, s, carry)
	require.True(t, env.IsWorkflowCompleted())
	if err := env.GetWorkflowError(); err != nil {
		res, ok := PipelineResultFromError(err)
		require.Truef(t, ok, "pipeline error without a result: %v", err)
		return res, err
	}
	var res PipelineResult
	require.NoError(t, env.GetWorkflowResult(&res))
	return res, nil
}

func overlap(a, b [2]time.Time) bool { return a[0].Before(b[1]) && b[0].Before(a[1]) }

func TestPipelineRunsADiamondInOrderAndInParallel(t *testing.T) {
	for _, tc := range []struct {
		parallelism int
		overlap     bool
	}{{2, true}, {1, false}} {
		env, f := newPipelineEnv(t)
		res, err := runPipeline(t, env, diamond(tc.parallelism))
		require.NoError(t, err)
		require.Equal(t, StateCompleted, res.State)
		for _, n := range []string{"a", "b", "c", "d"} {
			require.Equal(t, TaskSucceeded, res.Tasks[n].State, n)
		}
		require.False(t, f.spans["b"][0].Before(f.spans["a"][1]), "b started before a ended")
		require.False(t, f.spans["d"][0].Before(f.spans["c"][1]), "d started before c ended")
		require.Equal(t, tc.overlap, overlap(f.spans["b"], f.spans["c"]), "parallelism %d: b and c overlap", tc.parallelism)
		require.Equal(t, "etl-test-workflow-id/b", strings.Replace(res.Tasks["b"].WorkflowID, "default-test-workflow-id", "etl-test-workflow-id", 1))
	}
}

func TestFailedTaskStopsItsDownstreamAndFailsThePipeline(t *testing.T) {
	env, f := newPipelineEnv(t)
	f.fail["c"] = 1
	f.duration["c"] = 10 * time.Second // fails while b still runs
	res, err := runPipeline(t, env, diamond(2))
	var ae *temporal.ApplicationError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, ErrPipelineFailed, ae.Type())
	require.Contains(t, ae.Message(), "task c failed: app failed with exit code 3")
	require.Equal(t, TaskSucceeded, res.Tasks["b"].State, "b was running: it finishes")
	require.Equal(t, TaskFailed, res.Tasks["c"].State)
	require.Equal(t, TaskOmitted, res.Tasks["d"].State)
	require.NotContains(t, f.tries, "d")
}

func TestFailFastOffRunsEveryBranch(t *testing.T) {
	env, f := newPipelineEnv(t)
	f.fail["a"] = 1
	off := false
	s := pipeline.Spec{Name: "etl", Namespace: "jobs", FailFast: &off,
		Tasks: []pipeline.Task{task("a"), task("b"), task("c", "a")}}
	f.duration["a"] = time.Second
	res, _ := runPipeline(t, env, s)
	require.Equal(t, TaskSucceeded, res.Tasks["b"].State)
	require.Equal(t, TaskOmitted, res.Tasks["c"].State)

	env, f = newPipelineEnv(t)
	f.fail["a"] = 1
	f.duration["a"] = time.Second
	on := pipeline.Spec{Name: "etl", Namespace: "jobs", Parallelism: 1,
		Tasks: []pipeline.Task{task("a"), task("b")}}
	res, _ = runPipeline(t, env, on)
	require.Equal(t, TaskOmitted, res.Tasks["b"].State, "failFast: nothing new starts after a failure")
}

func TestTaskRetriesAreNewJobs(t *testing.T) {
	env, f := newPipelineEnv(t)
	f.fail["a"] = 1
	a := task("a")
	a.Retries = 1
	res, err := runPipeline(t, env, pipeline.Spec{Name: "etl", Namespace: "jobs", Tasks: []pipeline.Task{a}})
	require.NoError(t, err)
	require.Equal(t, 2, res.Tasks["a"].Tries)
	require.True(t, strings.HasSuffix(res.Tasks["a"].WorkflowID, "/a#2"), res.Tasks["a"].WorkflowID)
}

func TestOnExitRunsAndSeesTheState(t *testing.T) {
	env, f := newPipelineEnv(t)
	f.fail["b"] = 1
	s := diamond(2)
	exit := task("notify")
	s.OnExit = &exit
	res, err := runPipeline(t, env, s)
	require.Error(t, err)
	require.Equal(t, TaskSucceeded, res.Tasks["notify"].State)
	require.Equal(t, StateFailed, f.envSeen["notify"])
}

func TestCancelledPipelineCancelsItsJobsAndRunsOnExit(t *testing.T) {
	env, f := newPipelineEnv(t)
	f.duration["a"] = time.Hour
	s := diamond(2)
	exit := task("notify")
	s.OnExit = &exit
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Minute)
	res, err := runPipeline(t, env, s)
	require.True(t, temporal.IsCanceledError(err), "%v", err)
	require.Equal(t, StateCancelled, res.State)
	// (The test environment does not pass the cancel on to a mocked child; e2e
	// TestPipelineCancelLeavesNoPod shows the jobs cancelled and their drivers gone.)
	require.Equal(t, TaskOmitted, res.Tasks["b"].State)
	require.Equal(t, StateCancelled, f.envSeen["notify"])
}
