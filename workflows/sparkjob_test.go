package workflows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	sdkpb "go.temporal.io/api/sdk/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kindling-dev/kindling/activities"
	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/k8s/render"
)

// Overheads the fake renderer computes when the workflow does not set them (Spark's 384MiB floor).
const (
	defaultOverheadMiB = 384
	heapMiB            = 1024
)

// cluster fakes the activities: it records what the workflow asked for, in workflow time, and
// answers from per-attempt scripts.
type cluster struct {
	env *testsuite.TestWorkflowEnvironment

	mu       sync.Mutex
	renders  []render.Options
	creates  []string // driver pod names
	cleanups []cleanupCall
	keeps    []keepCall
	// supervise[i] is attempt i+1's outcome; the last one repeats.
	supervise []activities.SuperviseOutput
	// createErr[i] fails attempt i+1's CreateResources; nil entries (or past the end) succeed.
	createErr []error
	// transientCreates fail that many CreateResources calls, whatever the attempt, as a busy
	// API server would.
	transientCreates int

	// superviseErr fails Supervise; superviseAfter is how long each Supervise takes.
	superviseErr   error
	superviseAfter time.Duration
	validateErr    error
	validateCalls  int
	fetchErr       error
	// children are the child workflows started, by ID.
	children []string
}

type cleanupCall struct {
	in activities.CleanupInput
	at time.Time
}

type keepCall struct {
	in activities.KeepInput
	at time.Time
}

// kept is how long each KeepObjects call asked the objects to be kept.
func (c *cluster) kept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Duration
	for _, k := range c.keeps {
		out = append(out, k.in.Until.Sub(k.at))
	}
	return out
}

func spec(mutate ...func(*job.JobSpec)) job.JobSpec {
	s := job.JobSpec{Name: "spark-pi", Namespace: "jobs"}
	s.Type = job.TypeScala
	s.Image = "spark:3.5.1"
	s.MainApplicationFile = "local:///opt/spark/examples/jars/spark-examples.jar"
	for _, m := range mutate {
		m(&s)
	}
	return s
}

func onFailure(retries int32, intervalSec int64) func(*job.JobSpec) {
	return func(s *job.JobSpec) {
		s.RestartPolicy = job.RestartPolicy{Type: job.RestartOnFailure, OnFailureRetries: &retries, OnFailureRetryInterval: &intervalSec}
	}
}

func ttl(seconds int64) func(*job.JobSpec) {
	return func(s *job.JobSpec) { s.TimeToLiveSeconds = &seconds }
}

func succeeded() activities.SuperviseOutput {
	return activities.SuperviseOutput{Outcome: activities.OutcomeSucceeded, Reason: "driver completed",
		Progress: activities.SuperviseProgress{DriverPhase: "Succeeded", ExecutorsRunning: 0, ExecutorsFailed: 0}}
}

func failed(exit int32) activities.SuperviseOutput {
	return activities.SuperviseOutput{Outcome: activities.OutcomeAppFailed, ExitCode: exit,
		Reason:   fmt.Sprintf("app failed with exit code %d", exit),
		Progress: activities.SuperviseProgress{DriverPhase: "Failed", ExecutorsFailed: 1}}
}

func oomKilled() activities.SuperviseOutput {
	return activities.SuperviseOutput{Outcome: activities.OutcomeOOMKilled, ExitCode: 137, Reason: "driver OOMKilled",
		Progress: activities.SuperviseProgress{DriverPhase: "Failed"}}
}

// newCluster registers the workflows and fake activities on a fresh test environment.
func newCluster(t *testing.T) *cluster {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetTestTimeout(30 * time.Second)
	Register(env)
	env.RegisterActivity(&activities.Activities{})
	c := &cluster{env: env, supervise: []activities.SuperviseOutput{succeeded()}}
	env.SetOnChildWorkflowStartedListener(func(info *workflow.Info, _ workflow.Context, _ converter.EncodedValues) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.children = append(c.children, info.WorkflowExecution.ID)
	})
	return c
}

// mock installs the fakes; tests change the cluster's fields before it runs.
func (c *cluster) mock() {
	env := c.env
	env.OnActivity(a.Validate, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ValidateInput) (activities.ValidateOutput, error) {
			c.validateCalls++
			if c.validateErr != nil {
				return activities.ValidateOutput{}, c.validateErr
			}
			return activities.ValidateOutput{Spec: in.Spec}, nil
		}).Maybe()
	env.OnActivity(a.FetchDependencies, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.FetchDependenciesInput) (activities.FetchDependenciesOutput, error) {
			if c.fetchErr != nil {
				return activities.FetchDependenciesOutput{}, c.fetchErr
			}
			return activities.FetchDependenciesOutput{Dependencies: []activities.Dependency{
				{URI: in.Spec.MainApplicationFile, Kind: "mainApplicationFile"},
			}}, nil
		}).Maybe()
	env.OnActivity(a.Render, mock.Anything, mock.Anything).Return(c.render).Maybe()
	env.OnActivity(a.CreateResources, mock.Anything, mock.Anything).Return(c.create).Maybe()
	env.OnActivity(a.Supervise, mock.Anything, mock.Anything).After(c.superviseAfter).Return(c.superviseFn).Maybe()
	env.OnActivity(a.Cleanup, mock.Anything, mock.Anything).Return(c.cleanup).Maybe()
	env.OnActivity(a.KeepObjects, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.KeepInput) (activities.KeepOutput, error) {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.keeps = append(c.keeps, keepCall{in: in, at: c.env.Now()})
			return activities.KeepOutput{Marked: 3}, nil
		}).Maybe()
}

// start runs a workflow to its end with the fakes installed.
func (c *cluster) start(workflowName string, arg any) {
	c.mock()
	c.env.ExecuteWorkflow(workflowName, arg)
}

func (c *cluster) render(_ context.Context, in activities.RenderInput) (activities.RenderOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.renders = append(c.renders, in.Options)
	key := job.RunKey(in.Options.WorkflowID, in.Options.RunID)
	names := job.MakeNames(in.Spec.Name, key, in.Options.Attempt)
	drv, exe := in.Options.DriverMemoryOverheadMiB, in.Options.ExecutorMemoryOverheadMiB
	if drv == 0 {
		drv = defaultOverheadMiB
	}
	if exe == 0 {
		exe = defaultOverheadMiB
	}
	return activities.RenderOutput{Rendered: render.Rendered{
		Names: names, AppID: names.AppID, Namespace: in.Spec.Namespace, Selector: job.AttemptSelector(key, in.Options.Attempt),
		DriverPod:       &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: names.DriverPod, Namespace: in.Spec.Namespace}},
		DriverMemoryMiB: heapMiB + drv, DriverMemoryOverheadMiB: drv,
		ExecutorMemoryMiB: heapMiB + exe, ExecutorMemoryOverheadMiB: exe,
	}}, nil
}

func (c *cluster) create(_ context.Context, in activities.CreateInput) (activities.CreateOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.renders) // the attempt being created
	c.creates = append(c.creates, in.Rendered.Names.DriverPod)
	if c.transientCreates > 0 {
		c.transientCreates--
		return activities.CreateOutput{}, temporal.NewApplicationError("create driver pod: the server is currently unable to handle the request", activities.ErrSubmissionRetryable)
	}
	if n-1 < len(c.createErr) && c.createErr[n-1] != nil {
		return activities.CreateOutput{}, c.createErr[n-1]
	}
	return activities.CreateOutput{DriverPod: in.Rendered.Names.DriverPod, DriverUID: "uid-" + in.Rendered.Names.DriverPod}, nil
}

func (c *cluster) superviseFn(_ context.Context, in activities.SuperviseInput) (activities.SuperviseOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.superviseErr != nil {
		return activities.SuperviseOutput{}, c.superviseErr
	}
	n := len(c.renders)
	if n > len(c.supervise) {
		n = len(c.supervise)
	}
	return c.supervise[n-1], nil
}

func (c *cluster) cleanup(_ context.Context, in activities.CleanupInput) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cleanups = append(c.cleanups, cleanupCall{in: in, at: c.env.Now()})
	return nil
}

// run executes SparkJob and returns its result, or the CANCELLED result a CanceledError carries.
func (c *cluster) run(t *testing.T, s job.JobSpec) JobResult {
	t.Helper()
	c.start(WorkflowName, s)
	require.True(t, c.env.IsWorkflowCompleted())
	var res JobResult
	if err := c.env.GetWorkflowError(); err != nil {
		r, ok := ResultFromError(err)
		require.Truef(t, ok, "workflow failed: %v", err)
		return r
	}
	require.NoError(t, c.env.GetWorkflowResult(&res))
	return res
}

// status answers the status query, as the UI's Queries tab would.
func (c *cluster) status(t *testing.T) Status {
	t.Helper()
	v, err := c.env.QueryWorkflow(QueryStatus)
	require.NoError(t, err)
	var st Status
	require.NoError(t, v.Get(&st))
	return st
}

func (c *cluster) cleanedPods() []string {
	var pods []string
	for _, cl := range c.cleanups {
		pods = append(pods, cl.in.DriverPod)
	}
	return pods
}

func TestOneAttemptSucceeds(t *testing.T) {
	c := newCluster(t)
	var upserts []temporal.SearchAttributes
	c.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		upserts = append(upserts, args.Get(0).(temporal.SearchAttributes))
	}).Return(nil)

	res := c.run(t, spec())

	require.Equal(t, StateCompleted, res.State)
	require.Len(t, res.Attempts, 1)
	at := res.Attempts[0]
	require.Equal(t, StateCompleted, at.State)
	require.Equal(t, activities.OutcomeSucceeded, at.Outcome)
	require.Equal(t, "1408Mi", at.DriverMemory)
	require.EqualValues(t, defaultOverheadMiB, at.DriverMemoryOverheadMiB)
	// Names belong to this run, not to the workflow ID another run may reuse.
	require.Equal(t, job.AppID(job.RunKey(testWorkflowID, testRunID), 1), res.AppID)
	require.NotEqual(t, job.AppID(testWorkflowID, 1), res.AppID)
	require.Equal(t, res.AppID, at.AppID)
	require.NotEmpty(t, at.DriverPod)
	require.Equal(t, []activities.Dependency{{URI: spec().MainApplicationFile, Kind: "mainApplicationFile"}}, res.Dependencies)
	// Cleanup ran before the result, once, for this attempt's objects (TTL 0 on success).
	require.Equal(t, []string{at.DriverPod}, c.cleanedPods())
	require.Equal(t, "jobs", c.cleanups[0].in.Namespace)
	require.Equal(t, job.AttemptSelector(job.RunKey(testWorkflowID, testRunID), 1), c.cleanups[0].in.Selector)
	require.Equal(t, "uid-"+at.DriverPod, c.cleanups[0].in.DriverUID, "the driver is deleted only under the UID Create returned")
	require.Empty(t, c.children, "no delayed cleanup: nothing is kept")
	require.Empty(t, c.keeps, "nothing is kept")

	// The UI finds the job by name, namespace, app id, attempt and final state.
	final := map[string]string{}
	var attempt int64
	for _, u := range upserts {
		for _, k := range []temporal.SearchAttributeKeyKeyword{SearchAttrJobName, SearchAttrNamespace, SearchAttrAppID, SearchAttrState} {
			if v, ok := u.GetKeyword(k); ok {
				final[k.GetName()] = v
			}
		}
		if v, ok := u.GetInt64(SearchAttrAttempt); ok {
			attempt = v
		}
	}
	require.Equal(t, map[string]string{
		"KindlingJobName": "spark-pi", "KindlingNamespace": "jobs", "KindlingAppId": res.AppID, "KindlingState": StateCompleted,
	}, final)
	require.EqualValues(t, 1, attempt)
	for name := range final {
		require.Contains(t, SearchAttributes, name, "the dev stack must register every attribute the workflow sets")
	}
}

// testWorkflowID and testRunID are the IDs the test environment gives a run.
const (
	testWorkflowID = "default-test-workflow-id"
	testRunID      = "default-test-run-id"
)

func TestInvalidSpecFailsAtOnceAndCreatesNothing(t *testing.T) {
	c := newCluster(t)
	c.validateErr = temporal.NewNonRetryableApplicationError("spec.driver.cores: must be at least 1", activities.ErrInvalidSpec, nil)

	c.start(WorkflowName, spec())

	err := c.env.GetWorkflowError()
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "got %v", err)
	require.Equal(t, activities.ErrInvalidSpec, appErr.Type())
	require.True(t, appErr.NonRetryable())
	require.Contains(t, appErr.Message(), "spec.driver.cores")
	require.Equal(t, 1, c.validateCalls, "an invalid spec is not retried")
	c.env.AssertActivityNotCalled(t, "FetchDependencies", mock.Anything, mock.Anything)
	c.env.AssertActivityNotCalled(t, "CreateResources", mock.Anything, mock.Anything)
	require.Empty(t, c.cleanups)
}

func TestDependencyFailureCreatesNothing(t *testing.T) {
	c := newCluster(t)
	c.fetchErr = temporal.NewNonRetryableApplicationError("deps.jars[0] https://repo/x.jar: 404 Not Found", activities.ErrDependency, nil)

	res := c.run(t, spec(onFailure(3, 1)))

	require.Equal(t, StateFailed, res.State)
	require.Contains(t, res.Reason, "404 Not Found")
	require.Empty(t, res.Attempts)
	c.env.AssertActivityNotCalled(t, "Render", mock.Anything, mock.Anything)
	c.env.AssertActivityNotCalled(t, "CreateResources", mock.Anything, mock.Anything)
	require.Empty(t, c.cleanups, "nothing was created, so nothing is deleted")
}

func TestSubmissionFailureRetriesWithFreshNames(t *testing.T) {
	c := newCluster(t)
	boom := temporal.NewNonRetryableApplicationError("create driver pod: quota exceeded", activities.ErrSubmission, nil)
	c.createErr = []error{boom, boom, boom, boom}
	subRetries, subInterval := int32(2), int64(7)
	s := spec(func(s *job.JobSpec) {
		s.RestartPolicy = job.RestartPolicy{Type: job.RestartOnFailure,
			OnSubmissionFailureRetries: &subRetries, OnSubmissionFailureRetryInterval: &subInterval}
	}, ttl(0))

	res := c.run(t, s)

	require.Equal(t, StateFailed, res.State)
	require.Contains(t, res.Reason, "quota exceeded")
	require.Len(t, res.Attempts, 3, "one submission and two retries")
	seen := map[string]bool{}
	for i, at := range res.Attempts {
		require.Equal(t, StateFailed, at.State)
		require.Equal(t, activities.ErrSubmission, at.Outcome)
		require.False(t, seen[at.DriverPod], "attempt %d reuses a name", i+1)
		seen[at.DriverPod] = true
		if i > 0 {
			gap := at.StartedAt.Sub(res.Attempts[i-1].EndedAt)
			require.GreaterOrEqual(t, gap, 7*time.Second, "onSubmissionFailureRetryInterval")
		}
	}
	// Partly created objects of every attempt are deleted by the attempt's selector, each
	// before the next attempt; no pod is deleted by name, since Create never said it made one
	// (a pod of that name may be someone else's).
	require.Len(t, c.cleanups, 3)
	for i, cl := range c.cleanups {
		require.Equal(t, job.AttemptSelector(job.RunKey(testWorkflowID, testRunID), i+1), cl.in.Selector)
		require.Empty(t, cl.in.DriverPod, "attempt %d", i+1)
	}
	for i := 0; i < 2; i++ {
		require.False(t, c.cleanups[i].at.After(res.Attempts[i+1].StartedAt))
	}
	c.env.AssertActivityNotCalled(t, "Supervise", mock.Anything, mock.Anything)
}

func TestSubmissionFailureWithNeverIsFinal(t *testing.T) {
	c := newCluster(t)
	c.createErr = []error{temporal.NewNonRetryableApplicationError("forbidden", activities.ErrSubmission, nil)}

	res := c.run(t, spec(ttl(0)))

	require.Equal(t, StateFailed, res.State)
	require.Len(t, res.Attempts, 1)
	require.Len(t, c.cleanups, 1)
}

func TestSuperviseOutcomes(t *testing.T) {
	for _, tc := range []struct {
		out      activities.SuperviseOutput
		state    string
		reason   string
		exitCode int32
	}{
		{succeeded(), StateCompleted, "", 0},
		{failed(3), StateFailed, "app failed with exit code 3", 3},
		{oomKilled(), StateFailed, "driver OOMKilled", 137},
		{activities.SuperviseOutput{Outcome: activities.OutcomeEvicted, Reason: "driver evicted: node out of disk"}, StateFailed, "driver evicted: node out of disk", 0},
		{activities.SuperviseOutput{Outcome: activities.OutcomeImagePull, Reason: "ImagePullBackOff for spark:nope"}, StateFailed, "ImagePullBackOff for spark:nope", 0},
		{activities.SuperviseOutput{Outcome: activities.OutcomeUnschedulable}, StateFailed, activities.OutcomeUnschedulable, 0},
		{activities.SuperviseOutput{Outcome: activities.OutcomeMissingConfig, Reason: "configmap spark-conf not found"}, StateFailed, "configmap spark-conf not found", 0},
		{activities.SuperviseOutput{Outcome: activities.OutcomeDriverDeleted, Reason: "driver pod deleted"}, StateFailed, "driver pod deleted", 0},
	} {
		t.Run(tc.out.Outcome, func(t *testing.T) {
			c := newCluster(t)
			c.supervise = []activities.SuperviseOutput{tc.out}

			res := c.run(t, spec(ttl(0)))

			require.Equal(t, tc.state, res.State)
			require.Equal(t, tc.reason, res.Reason)
			require.Len(t, res.Attempts, 1, "restartPolicy Never")
			require.Equal(t, tc.out.Outcome, res.Attempts[0].Outcome)
			require.Equal(t, tc.exitCode, res.Attempts[0].ExitCode)
			require.Len(t, c.cleanups, 1)
		})
	}
}

func TestSuperviseErrorFailsTheAttempt(t *testing.T) {
	c := newCluster(t)
	c.superviseErr = temporal.NewNonRetryableApplicationError("watch pods: forbidden", "Forbidden", nil)

	res := c.run(t, spec(ttl(0)))

	require.Equal(t, StateFailed, res.State)
	require.Contains(t, res.Reason, "watch pods: forbidden")
	require.Len(t, c.cleanups, 1, "the driver is deleted even though nobody saw it end")
}

func TestRestartPolicy(t *testing.T) {
	three := int32(3)
	for _, tc := range []struct {
		name     string
		policy   func(*job.JobSpec)
		runs     []activities.SuperviseOutput
		attempts int
		state    string
		gap      time.Duration
	}{
		{"Never stops after a failure", func(*job.JobSpec) {}, []activities.SuperviseOutput{failed(1)}, 1, StateFailed, 0},
		{"OnFailure retries up to onFailureRetries", onFailure(2, 30), []activities.SuperviseOutput{failed(1)}, 3, StateFailed, 30 * time.Second},
		{"OnFailure stops at the first success", onFailure(5, 10), []activities.SuperviseOutput{failed(1), succeeded()}, 2, StateCompleted, 10 * time.Second},
		{"OnFailure does not rerun a success", onFailure(5, 10), []activities.SuperviseOutput{succeeded()}, 1, StateCompleted, 0},
		{"OnFailure without onFailureRetries does not retry", func(s *job.JobSpec) {
			s.RestartPolicy = job.RestartPolicy{Type: job.RestartOnFailure, OnSubmissionFailureRetries: &three}
		}, []activities.SuperviseOutput{failed(1)}, 1, StateFailed, 0},
		{"OnFailure without an interval waits the operator's default", func(s *job.JobSpec) {
			s.RestartPolicy = job.RestartPolicy{Type: job.RestartOnFailure, OnFailureRetries: &three}
		}, []activities.SuperviseOutput{failed(1), succeeded()}, 2, StateCompleted, DefaultRetryInterval},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t)
			c.supervise = tc.runs

			res := c.run(t, spec(tc.policy, ttl(0)))

			require.Equal(t, tc.state, res.State)
			require.Len(t, res.Attempts, tc.attempts)
			require.Len(t, c.renders, tc.attempts)
			for i := 1; i < len(res.Attempts); i++ {
				require.Equal(t, i+1, c.renders[i].Attempt, "each attempt renders fresh names")
				require.NotEqual(t, res.Attempts[i-1].DriverPod, res.Attempts[i].DriverPod)
				gap := res.Attempts[i].StartedAt.Sub(res.Attempts[i-1].EndedAt)
				require.GreaterOrEqual(t, gap, tc.gap)
				require.Less(t, gap, tc.gap+time.Second, "waits the interval, not longer")
				require.Equal(t, res.Attempts[i-1].DriverPod, c.cleanups[i-1].in.DriverPod)
				require.False(t, c.cleanups[i-1].at.After(res.Attempts[i].StartedAt), "old objects go before the next attempt")
			}
			require.Len(t, c.cleanups, tc.attempts)
		})
	}
}

func TestRestartAlwaysRerunsSuccessUntilCancelled(t *testing.T) {
	c := newCluster(t)
	c.superviseAfter = time.Minute
	c.env.RegisterDelayedCallback(c.env.CancelWorkflow, 150*time.Second)

	res := c.run(t, spec(func(s *job.JobSpec) { s.RestartPolicy.Type = job.RestartAlways }))

	require.Equal(t, StateCancelled, res.State)
	require.Len(t, res.Attempts, 3, "attempts start at 0s, 60s and 120s; the cancel comes at 150s")
	require.Equal(t, StateCompleted, res.Attempts[0].State)
	require.Equal(t, StateCompleted, res.Attempts[1].State)
	require.Equal(t, StateCancelled, res.Attempts[2].State)
	require.Len(t, c.cleanups, 3)
}

func TestDriverOOMKillRaisesOverhead(t *testing.T) {
	c := newCluster(t)
	c.supervise = []activities.SuperviseOutput{oomKilled(), succeeded()}

	res := c.run(t, spec(onFailure(1, 5), ttl(0)))

	require.Equal(t, StateCompleted, res.State)
	require.Len(t, res.Attempts, 2)
	require.EqualValues(t, 0, c.renders[0].DriverMemoryOverheadMiB, "the first attempt uses Spark's own overhead")
	require.EqualValues(t, 576, c.renders[1].DriverMemoryOverheadMiB, "ceil(384 × 1.5)")
	require.EqualValues(t, 0, c.renders[1].ExecutorMemoryOverheadMiB, "executors were not OOMKilled")
	require.Equal(t, "1408Mi", res.Attempts[0].DriverMemory)
	require.Equal(t, "1600Mi", res.Attempts[1].DriverMemory)
	require.EqualValues(t, 576, res.Attempts[1].DriverMemoryOverheadMiB)
}

func TestExecutorOOMKillRaisesExecutorOverhead(t *testing.T) {
	c := newCluster(t)
	c.supervise = []activities.SuperviseOutput{
		{Outcome: activities.OutcomeAppFailed, ExitCode: 1, Reason: "job aborted: executors lost", ExecutorOOMKills: 2},
		succeeded(),
	}

	res := c.run(t, spec(onFailure(1, 5), ttl(0)))

	require.Equal(t, StateCompleted, res.State)
	require.EqualValues(t, 0, c.renders[1].DriverMemoryOverheadMiB)
	require.EqualValues(t, 576, c.renders[1].ExecutorMemoryOverheadMiB)
	require.EqualValues(t, 576, res.Attempts[1].ExecutorMemoryOverheadMiB)
}

func TestOOMOverheadIsBounded(t *testing.T) {
	c := newCluster(t)
	c.supervise = []activities.SuperviseOutput{oomKilled()}

	res := c.run(t, spec(onFailure(6, 1), ttl(0)))

	require.Equal(t, StateFailed, res.State)
	var got []int64
	for _, at := range res.Attempts {
		got = append(got, at.DriverMemoryOverheadMiB)
	}
	// 384 → 576 → 864 → 1296 → 1944 capped at 4 × 384.
	require.Equal(t, []int64{384, 576, 864, 1296, 1536, 1536, 1536}, got)
}

func TestOOMKillWithNeverDoesNotRetry(t *testing.T) {
	c := newCluster(t)
	c.supervise = []activities.SuperviseOutput{oomKilled()}

	res := c.run(t, spec(ttl(0)))

	require.Equal(t, StateFailed, res.State)
	require.Len(t, res.Attempts, 1)
}

func TestCancelDeletesDriverAtOnce(t *testing.T) {
	c := newCluster(t)
	c.superviseAfter = time.Hour
	c.env.RegisterDelayedCallback(c.env.CancelWorkflow, 10*time.Minute)

	// A TTL is set, and a cancel still deletes at once.
	c.start(WorkflowName, spec(ttl(3600)))

	err := c.env.GetWorkflowError()
	require.True(t, temporal.IsCanceledError(err), "the UI shows a cancelled job as Canceled; got %v", err)
	res, ok := ResultFromError(err)
	require.True(t, ok)
	require.Equal(t, StateCancelled, res.State)
	require.Len(t, res.Attempts, 1)
	require.Equal(t, StateCancelled, res.Attempts[0].State)
	require.Equal(t, []string{res.Attempts[0].DriverPod}, c.cleanedPods())
	require.Less(t, c.cleanups[0].at.Sub(res.Attempts[0].StartedAt), 11*time.Minute)
	require.Empty(t, c.children, "no delayed cleanup: nothing is kept")
	require.Empty(t, c.keeps, "nothing is kept")

	require.Equal(t, StateCancelled, c.status(t).State)
}

func TestCancelWhileWaitingToRetryLeavesNothing(t *testing.T) {
	c := newCluster(t)
	c.supervise = []activities.SuperviseOutput{failed(1)}
	c.env.RegisterDelayedCallback(c.env.CancelWorkflow, 30*time.Second)

	res := c.run(t, spec(onFailure(3, 600)))

	require.Equal(t, StateCancelled, res.State)
	require.Len(t, res.Attempts, 1)
	require.Len(t, c.cleanups, 1, "attempt 1 was already deleted; no second delete")
}

// A failed driver is kept for its logs by marking the attempt's objects with the time they
// may go: no workflow stays open for the TTL (its row looked like a running job in the UI).
func TestFailureKeepsDriverForTTLWithoutHoldingTheResult(t *testing.T) {
	c := newCluster(t)
	c.supervise = []activities.SuperviseOutput{failed(2)}

	res := c.run(t, spec())

	require.Equal(t, StateFailed, res.State)
	require.Empty(t, c.children, "no CleanupAfter: nothing stays open for the TTL")
	require.Empty(t, c.cleanups, "the failed driver is kept for its logs")
	require.Equal(t, []time.Duration{DefaultFailureTTL}, c.kept())
	require.Equal(t, job.AttemptSelector(job.RunKey("default-test-workflow-id", "default-test-run-id"), 1), c.keeps[0].in.Selector)
	require.Equal(t, "jobs", c.keeps[0].in.Namespace)
	require.Equal(t, c.keeps[0].in.Until, c.status(t).KeptUntil.UTC())
	require.NotNil(t, res.KeptUntil, "the result says how long the driver stays")
	require.Equal(t, c.keeps[0].in.Until, res.KeptUntil.UTC())
}

// Runs recorded before the mark kept their objects with CleanupAfter: it deletes once its
// delay ends.
func TestCleanupAfterDeletesOnceItsDelayEnds(t *testing.T) {
	c := newCluster(t)
	startedAt := c.env.Now()

	c.start(CleanupAfterWorkflowName, CleanupAfterInput{Delay: time.Hour,
		Cleanup: activities.CleanupInput{Namespace: "jobs", DriverPod: "p-driver", Selector: "kindling.dev/run=x,kindling.dev/attempt=1"}})

	require.NoError(t, c.env.GetWorkflowError())
	require.Equal(t, []string{"p-driver"}, c.cleanedPods())
	require.GreaterOrEqual(t, c.cleanups[0].at.Sub(startedAt), time.Hour)
}

// A marking that fails (the API server refused it) must not leave the objects forever:
// they are deleted at once.
func TestKeepThatFailsCleansUpAtOnce(t *testing.T) {
	c := newCluster(t)
	c.supervise = []activities.SuperviseOutput{failed(2)}
	tried := 0
	c.env.OnActivity(a.KeepObjects, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.KeepInput) (activities.KeepOutput, error) {
			tried++
			return activities.KeepOutput{}, temporal.NewNonRetryableApplicationError("forbidden", "Forbidden", nil)
		})

	res := c.run(t, spec())

	require.Equal(t, StateFailed, res.State)
	require.Equal(t, 1, tried, "the objects were to be kept")
	require.Equal(t, []string{res.Attempts[0].DriverPod}, c.cleanedPods())
	require.Nil(t, res.KeptUntil)
}

func TestExplicitTTLAppliesToSuccess(t *testing.T) {
	c := newCluster(t)

	res := c.run(t, spec(ttl(600)))

	require.Equal(t, StateCompleted, res.State)
	require.Equal(t, []time.Duration{600 * time.Second}, c.kept())
	require.Empty(t, c.cleanups)
}

func TestCleanupAfterCancelledDeletesAtOnce(t *testing.T) {
	c := newCluster(t)
	c.env.RegisterDelayedCallback(c.env.CancelWorkflow, time.Minute)

	c.start(CleanupAfterWorkflowName, CleanupAfterInput{Delay: time.Hour,
		Cleanup: activities.CleanupInput{Namespace: "jobs", DriverPod: "p-driver"}})

	require.True(t, temporal.IsCanceledError(c.env.GetWorkflowError()))
	require.Equal(t, []string{"p-driver"}, c.cleanedPods())
	require.Less(t, c.cleanups[0].at.Sub(c.env.Now()), time.Second)
}

func TestStatusQuery(t *testing.T) {
	c := newCluster(t)
	c.superviseAfter = 10 * time.Minute
	c.supervise = []activities.SuperviseOutput{failed(4), {Outcome: activities.OutcomeSucceeded,
		Progress: activities.SuperviseProgress{DriverPhase: "Succeeded", ExecutorsRunning: 2, ExecutorsFailed: 1}}}
	query := func() Status { return c.status(t) }
	var during, waiting Status
	c.env.RegisterDelayedCallback(func() { during = query() }, 5*time.Minute)
	c.env.RegisterDelayedCallback(func() { waiting = query() }, 11*time.Minute)

	res := c.run(t, spec(onFailure(1, 120), ttl(0)))

	require.Equal(t, Status{State: StateRunning, Stage: StageSupervising, Run: 1, Attempt: 1,
		AppID: res.Attempts[0].AppID, DriverPod: res.Attempts[0].DriverPod}, during)
	require.Equal(t, StageWaitingRetry, waiting.Stage)
	require.Equal(t, "app failed with exit code 4", waiting.LastReason)
	require.Equal(t, "Failed", waiting.DriverPhase)
	require.NotNil(t, waiting.NextAttemptAt)
	require.Equal(t, res.Attempts[0].EndedAt.Add(120*time.Second), waiting.NextAttemptAt.UTC())

	final := query()
	require.Equal(t, StateCompleted, final.State)
	require.Equal(t, StageDone, final.Stage)
	require.Equal(t, 2, final.Attempt)
	require.Equal(t, "Succeeded", final.DriverPhase)
	require.Equal(t, 2, final.ExecutorsRunning)
	require.Equal(t, 1, final.ExecutorsFailed)
	require.Equal(t, res.AppID, final.AppID)
	require.True(t, strings.HasPrefix(final.AppID, "spark-"))
}

// A failed application fails its workflow, so the UI, ExecutionStatus="Failed", a parent
// workflow and a schedule's pause-on-failure see it; the result travels in the error.
func TestFailedJobFailsItsWorkflow(t *testing.T) {
	c := newCluster(t)
	c.supervise = []activities.SuperviseOutput{failed(3)}

	c.start(WorkflowName, spec(ttl(0)))

	err := c.env.GetWorkflowError()
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "a failed job must fail its workflow; got %v", err)
	require.Equal(t, ErrJobFailed, appErr.Type())
	require.True(t, appErr.NonRetryable(), "a failed job is not retried by Temporal: the restart policy decides")
	require.Equal(t, "app failed with exit code 3", appErr.Message())
	res, ok := ResultFromError(err)
	require.True(t, ok, "the error carries the whole result")
	require.Equal(t, StateFailed, res.State)
	require.Len(t, res.Attempts, 1)
	require.EqualValues(t, 3, res.Attempts[0].ExitCode)
}

// restartPolicy Always goes on forever in the operator: past MaxAttempts attempts a run
// continues as new, carrying its restart counts and the memory its OOMKills earned.
func TestRestartAlwaysContinuesAsNewCarryingItsState(t *testing.T) {
	c := newCluster(t)
	c.supervise = []activities.SuperviseOutput{oomKilled()}

	c.start(WorkflowName, spec(ttl(0), func(s *job.JobSpec) { s.RestartPolicy.Type = job.RestartAlways }))

	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(c.env.GetWorkflowError(), &can), "want continue-as-new after %d attempts, got %v", MaxAttempts, c.env.GetWorkflowError())
	require.Equal(t, WorkflowName, can.WorkflowType.Name)
	var next job.JobSpec
	var carry Carry
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next, &carry))
	require.Equal(t, "spark-pi", next.Name)
	require.Equal(t, Carry{Run: 2, AttemptsBefore: MaxAttempts, RunFailures: MaxAttempts,
		DriverOverheadMiB: 4 * defaultOverheadMiB, FirstDriverOverheadMiB: defaultOverheadMiB, FirstExecutorOverheadMiB: defaultOverheadMiB}, carry)
	require.Len(t, c.cleanups, MaxAttempts, "every attempt's objects are gone before the new run")
}

// The next run starts where the last stopped: its memory, and its place in the count.
func TestContinuedRunStartsWhereTheLastStopped(t *testing.T) {
	c := newCluster(t)
	var st Status
	c.env.RegisterDelayedCallback(func() { st = c.status(t) }, time.Second)
	c.superviseAfter = time.Minute
	c.mock()
	c.env.ExecuteWorkflow(WorkflowName, spec(ttl(0)), Carry{Run: 2, AttemptsBefore: 100, DriverOverheadMiB: 1536, FirstDriverOverheadMiB: 384})

	require.NoError(t, c.env.GetWorkflowError())
	require.EqualValues(t, 1536, c.renders[0].DriverMemoryOverheadMiB)
	require.Equal(t, 2, st.Run)
	require.Equal(t, 101, st.Attempt)
}

// A busy API server does not cost the job an attempt: Create's own policy retries it.
func TestCreateRetriesATransientError(t *testing.T) {
	c := newCluster(t)
	c.transientCreates = 2

	res := c.run(t, spec(ttl(0)))

	require.Equal(t, StateCompleted, res.State)
	require.Len(t, res.Attempts, 1, "the transient errors were retried within the attempt")
	require.Len(t, c.creates, 3)
}

// Every heartbeating activity has a heartbeat timeout, so a dead worker is noticed in seconds,
// not after the activity's whole timeout; and Supervise has no fixed 24h cap.
func TestHeartbeatingActivitiesHaveHeartbeatTimeouts(t *testing.T) {
	c := newCluster(t)
	type seen struct {
		heartbeat time.Duration
		deadline  time.Duration
	}
	got := map[string]seen{}
	c.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		got[info.ActivityType.Name] = seen{info.HeartbeatTimeout, info.Deadline.Sub(info.StartedTime)}
	})

	res := c.run(t, spec(ttl(0)))

	require.Equal(t, StateCompleted, res.State)
	for name, want := range map[string]time.Duration{"FetchDependencies": time.Minute, "CreateResources": 20 * time.Second, "Supervise": 2 * time.Minute, "Cleanup": 30 * time.Second} {
		require.Equal(t, want, got[name].heartbeat, "%s heartbeat timeout", name)
	}
	require.Greater(t, got["Supervise"].deadline, 365*24*time.Hour, "Supervise must not be capped at a day")
}

// The Temporal UI shows a run's current details: its stage, attempt and driver while it runs.
func TestCurrentDetailsShowTheLiveState(t *testing.T) {
	c := newCluster(t)
	c.superviseAfter = 10 * time.Minute
	var details string
	c.env.RegisterDelayedCallback(func() {
		v, err := c.env.QueryWorkflow("__temporal_workflow_metadata")
		require.NoError(t, err)
		var md sdkpb.WorkflowMetadata
		require.NoError(t, v.Get(&md))
		details = md.GetCurrentDetails()
	}, 5*time.Minute)

	res := c.run(t, spec(ttl(0)))

	require.Contains(t, details, "supervising")
	require.Contains(t, details, "attempt 1")
	require.Contains(t, details, res.Attempts[0].DriverPod)
}

// While an attempt runs, the status query and the UI's current details show what Supervise
// last signalled: the executors running now, not the 0 known before the attempt ended. A
// signal about another attempt's driver changes nothing.
func TestStatusShowsTheExecutorsSuperviseSignals(t *testing.T) {
	c := newCluster(t)
	c.superviseAfter = 10 * time.Minute
	query := func() Status { return c.status(t) }
	var live, stale Status
	var details string
	c.env.RegisterDelayedCallback(func() {
		st := query()
		c.env.SignalWorkflow(activities.SignalProgress, activities.LiveProgress{DriverPod: st.DriverPod, DriverPhase: "Running", ExecutorsRunning: 2, ExecutorsPending: 1})
	}, 3*time.Minute)
	c.env.RegisterDelayedCallback(func() {
		live = query()
		v, err := c.env.QueryWorkflow("__temporal_workflow_metadata")
		require.NoError(t, err)
		var md sdkpb.WorkflowMetadata
		require.NoError(t, v.Get(&md))
		details = md.GetCurrentDetails()
		c.env.SignalWorkflow(activities.SignalProgress, activities.LiveProgress{DriverPod: "someone-else-driver", DriverPhase: "Failed", ExecutorsFailed: 9})
	}, 4*time.Minute)
	c.env.RegisterDelayedCallback(func() { stale = query() }, 5*time.Minute)

	c.run(t, spec(ttl(0)))

	require.Equal(t, StageSupervising, live.Stage)
	require.Equal(t, "Running", live.DriverPhase)
	require.Equal(t, 2, live.ExecutorsRunning)
	require.Equal(t, 1, live.ExecutorsPending)
	require.Contains(t, details, "Running, executors 2 running, 1 pending, 0 failed")
	require.Equal(t, live, stale, "a signal about another driver changed the status")
}

// A submission that failed made no driver: nothing is kept for its logs, and what Create left
// goes at once (the worker finds marks through drivers).
func TestFailedSubmissionKeepsNothing(t *testing.T) {
	c := newCluster(t)
	c.createErr = []error{temporal.NewNonRetryableApplicationError("create driver pod: forbidden", activities.ErrSubmission, nil)}

	res := c.run(t, spec(ttl(600)))

	require.Equal(t, StateFailed, res.State)
	require.Empty(t, c.keeps)
	require.Len(t, c.cleanups, 1)
	require.Nil(t, res.KeptUntil)
}

// A job started with its search attributes set (as `kindling submit` and the controller start
// it) does not upsert them again: one history event and one visibility write fewer per job.
func TestSearchAttributesSetAtStartAreNotUpsertedAgain(t *testing.T) {
	for _, atStart := range []bool{true, false} {
		c := newCluster(t)
		s := spec(ttl(0))
		if atStart {
			require.NoError(t, c.env.SetTypedSearchAttributesOnStart(StartSearchAttributes(&s)))
		}
		var upserted []string
		c.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
			for k := range args.Get(0).(temporal.SearchAttributes).GetUntypedValues() {
				upserted = append(upserted, k.GetName())
			}
		}).Return(nil)

		res := c.run(t, s)

		require.Equal(t, StateCompleted, res.State)
		require.Equal(t, !atStart, slices.Contains(upserted, SearchAttrJobName.GetName()), "started with them: %v; upserted %v", atStart, upserted)
		require.Contains(t, upserted, SearchAttrAppID.GetName(), "the app id is known only after Render")
	}
}
