package workflows

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kindling-dev/kindling/k8s/pipeline"
)

func dependsTask(name, depends string) pipeline.Task {
	t := task(name)
	t.Depends = depends
	return t
}

func TestDependsExpressionsDecideWhatRuns(t *testing.T) {
	env, f := newPipelineEnv(t)
	f.fail["a"] = 1
	s := pipeline.Spec{Name: "etl", Namespace: "jobs", Tasks: []pipeline.Task{
		task("a"),
		dependsTask("alert", "a.Failed"), // a failure handler
		dependsTask("load", "a"),         // bare: a succeeded (or was skipped)
		dependsTask("report", "alert || load"),
		dependsTask("never", "!a.Failed"),
	}}
	res, err := runPipeline(t, env, s)
	require.NoError(t, err, "a's failure is handled by alert's depends: the pipeline completes")
	require.Equal(t, StateCompleted, res.State)
	require.Equal(t, TaskFailed, res.Tasks["a"].State)
	require.Equal(t, TaskSucceeded, res.Tasks["alert"].State)
	require.Equal(t, TaskOmitted, res.Tasks["load"].State)
	require.Equal(t, `depends "a" was false`, res.Tasks["load"].Reason)
	require.Equal(t, TaskSucceeded, res.Tasks["report"].State, "alert succeeded: alert || load is true")
	require.Equal(t, TaskOmitted, res.Tasks["never"].State)
	require.NotContains(t, f.tries, "load")
	require.NotContains(t, f.tries, "never")
}

func TestUnhandledFailureStillFailsThePipeline(t *testing.T) {
	env, f := newPipelineEnv(t)
	f.fail["b"] = 1
	s := pipeline.Spec{Name: "etl", Namespace: "jobs", Tasks: []pipeline.Task{
		task("a"), task("b"), dependsTask("alert", "a.Failed"),
	}}
	res, err := runPipeline(t, env, s)
	require.Error(t, err)
	require.Equal(t, StateFailed, res.State)
	require.Contains(t, res.Reason, "task b failed")
	require.Equal(t, TaskOmitted, res.Tasks["alert"].State, "a succeeded: a.Failed is false")
}

func TestWhenSkipsAndSkippedCountsAsDoneForDependents(t *testing.T) {
	env, f := newPipelineEnv(t)
	f.output["count"] = `{"rows": 0, "table": "sales"}`
	publish := task("publish", "count")
	publish.When = "{{ tasks.count.outputs.rows }} > 0"
	vacuum := task("vacuum", "publish") // publish skipped: vacuum still runs, as in Argo
	audit := task("audit", "count")
	audit.When = "{{ tasks.count.status }} == Succeeded && '{{ tasks.count.outputs.table }}' == sales"
	s := pipeline.Spec{Name: "etl", Namespace: "jobs", Tasks: []pipeline.Task{task("count"), publish, vacuum, audit}}
	res, err := runPipeline(t, env, s)
	require.NoError(t, err)
	require.Equal(t, TaskSkipped, res.Tasks["publish"].State)
	require.Equal(t, `when "{{ tasks.count.outputs.rows }} > 0" was false`, res.Tasks["publish"].Reason)
	require.NotContains(t, f.tries, "publish")
	require.Equal(t, TaskSucceeded, res.Tasks["vacuum"].State)
	require.Equal(t, TaskSucceeded, res.Tasks["audit"].State)
}

func TestOutputsReachDownstreamArguments(t *testing.T) {
	env, f := newPipelineEnv(t)
	f.output["a"] = `{"rows": 42, "path": "s3://lake/day=1", "ok": true}`
	d := task("d", "a")
	d.Job.Arguments = []string{"--rows={{ tasks.a.outputs.rows }}", "--in", "{{ tasks.a.outputs.path }}"}
	d.Job.SparkConf = map[string]string{"spark.kindling.ok": "{{ tasks.a.outputs.ok }}"}
	res, err := runPipeline(t, env, pipeline.Spec{Name: "etl", Namespace: "jobs", Tasks: []pipeline.Task{task("a"), d}})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"rows": "42", "path": "s3://lake/day=1", "ok": "true"}, res.Tasks["a"].Outputs)
	require.Empty(t, res.Tasks["a"].Job.Output, "the raw output is kept once, parsed")
	require.Equal(t, []string{"--rows=42", "--in", "s3://lake/day=1"}, f.specs["d"].Arguments)
	require.Equal(t, "true", f.specs["d"].SparkConf["spark.kindling.ok"])
}

func TestBadOutputFailsItsTaskAndMissingKeyFailsTheReader(t *testing.T) {
	env, f := newPipelineEnv(t)
	f.output["a"] = "done, 42 rows"
	a := task("a")
	a.Retries = 2
	res, err := runPipeline(t, env, pipeline.Spec{Name: "etl", Namespace: "jobs", Tasks: []pipeline.Task{a, task("b", "a")}})
	require.Error(t, err)
	require.Equal(t, TaskFailed, res.Tasks["a"].State)
	require.Contains(t, res.Tasks["a"].Reason, "must be a JSON object")
	require.Equal(t, 1, f.tries["a"], "a job that succeeded but wrote a bad output is not run again")
	require.Equal(t, TaskOmitted, res.Tasks["b"].State)

	env, f = newPipelineEnv(t)
	f.output["a"] = `{"rows": 42}`
	b := task("b", "a")
	b.Job.Arguments = []string{"{{ tasks.a.outputs.path }}"}
	res, err = runPipeline(t, env, pipeline.Spec{Name: "etl", Namespace: "jobs", Tasks: []pipeline.Task{task("a"), b}})
	require.Error(t, err)
	require.Equal(t, TaskFailed, res.Tasks["b"].State)
	require.Equal(t, "{{ tasks.a.outputs.path }}: task a's output has no key path (its keys: rows)", res.Tasks["b"].Reason)
	require.NotContains(t, f.tries, "b", "a task whose inputs cannot be filled never starts a job")
}

func TestResumeReusesWhatSucceededWithTheSameInputs(t *testing.T) {
	env, f := newPipelineEnv(t)
	f.fail["c"] = 1
	f.output["a"] = `{"rows": 7}`
	s := diamond(2)
	s.Tasks[3].Job.Arguments = []string{"{{ tasks.a.outputs.rows }}"}
	first, err := runPipeline(t, env, s)
	require.Error(t, err)
	require.Equal(t, TaskOmitted, first.Tasks["d"].State)
	for _, n := range []string{"a", "b", "c"} {
		require.NotEmpty(t, first.Tasks[n].Input, n)
	}

	// Resume: a and b are reused, c and d run.
	env, f = newPipelineEnv(t)
	res, err := runPipelineWith(t, env, s, Carry{Resume: &PipelineResume{From: "etl-1", Tasks: first.Tasks}})
	require.NoError(t, err)
	require.Equal(t, "etl-1", res.ResumedFrom)
	require.Equal(t, map[string]int{"c": 1, "d": 1}, f.tries, "only c and d ran")
	for _, n := range []string{"a", "b"} {
		require.Equal(t, TaskSucceeded, res.Tasks[n].State, n)
		require.Equal(t, "etl-1", res.Tasks[n].ReusedFrom, n)
		require.Equal(t, first.Tasks[n].WorkflowID, res.Tasks[n].WorkflowID, n)
	}
	require.Equal(t, []string{"7"}, f.specs["d"].Arguments, "a's output, reused, still reaches d")
	require.Empty(t, res.Tasks["c"].ReusedFrom)

	// Resuming the resumed run reuses everything and says where each job ran.
	env, f = newPipelineEnv(t)
	again, err := runPipelineWith(t, env, s, Carry{Resume: &PipelineResume{From: "etl-2", Tasks: res.Tasks}})
	require.NoError(t, err)
	require.Empty(t, f.tries)
	require.Equal(t, "etl-1", again.Tasks["a"].ReusedFrom)
	require.Equal(t, "etl-2", again.Tasks["d"].ReusedFrom)

	// --from b: b and what is downstream of it run again, a is reused.
	env, f = newPipelineEnv(t)
	_, err = runPipelineWith(t, env, s, Carry{Resume: &PipelineResume{From: "etl-2", Tasks: res.Tasks, Rerun: []string{"b"}}})
	require.NoError(t, err)
	require.Equal(t, map[string]int{"b": 1, "d": 1}, f.tries)

	// A changed job reruns, and so does everything downstream of it.
	env, f = newPipelineEnv(t)
	changed := diamond(2)
	changed.Tasks[3].Job.Arguments = s.Tasks[3].Job.Arguments
	changed.Tasks[1].Job.Arguments = []string{"--fixed"}
	_, err = runPipelineWith(t, env, changed, Carry{Resume: &PipelineResume{From: "etl-2", Tasks: res.Tasks}})
	require.NoError(t, err)
	require.Equal(t, map[string]int{"b": 1, "d": 1}, f.tries)
}
