package workflows

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
	corev1 "k8s.io/api/core/v1"

	"github.com/kindling-dev/kindling/activities"
	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/k8s/pipeline"
)

// PipelineWorkflowName is the Pipeline workflow's type name.
const PipelineWorkflowName = "SparkPipeline"

// QueryPipeline returns a running pipeline's PipelineResult so far.
const QueryPipeline = "pipeline"

// ErrPipelineFailed is the ApplicationError type of a pipeline in which a task failed; its
// details are the PipelineResult.
const ErrPipelineFailed = "PipelineFailed"

// Task states in a PipelineResult.
const (
	TaskPending   = "PENDING"
	TaskRunning   = "RUNNING"
	TaskSucceeded = "SUCCEEDED"
	TaskFailed    = "FAILED"
	TaskSkipped   = "SKIPPED" // its `when` was false (before pipeline-flow: also what OMITTED is now)
	TaskOmitted   = "OMITTED" // what it depends on did not allow it, or the pipeline stopped first
	TaskCancelled = "CANCELLED"
)

// Search attributes tying a pipeline's jobs to it: KindlingPipeline = '<pipeline workflow ID>'
// lists one run's jobs, KindlingTask names each one's task.
var (
	SearchAttrPipeline = temporal.NewSearchAttributeKeyKeyword("KindlingPipeline")
	SearchAttrTask     = temporal.NewSearchAttributeKeyKeyword("KindlingTask")
)

// PipelineResult is a pipeline's result: its state and each task's.
type PipelineResult struct {
	State  string                `json:"state"` // COMPLETED, FAILED or CANCELLED
	Reason string                `json:"reason,omitempty"`
	Tasks  map[string]TaskResult `json:"tasks"`
	Order  []string              `json:"order"` // the tasks in the file's order, OnExit last
	Dates  *job.Dates            `json:"dates,omitempty"`
	// ResumedFrom is the run this one resumed (`kindling pipeline resume`).
	ResumedFrom string `json:"resumedFrom,omitempty"`
}

// TaskResult is one task's part of a pipeline's run.
type TaskResult struct {
	State      string     `json:"state"`
	Reason     string     `json:"reason,omitempty"`
	WorkflowID string     `json:"workflowId,omitempty"` // its SparkJob, the last try's
	RunID      string     `json:"runId,omitempty"`
	Tries      int        `json:"tries,omitempty"`
	StartedAt  *time.Time `json:"startedAt,omitempty"`
	EndedAt    *time.Time `json:"endedAt,omitempty"`
	Job        *JobResult `json:"job,omitempty"`
	// Outputs are what the task's driver wrote as its output (a JSON object, at most 4 KiB),
	// for {{ tasks.NAME.outputs.KEY }} in the tasks after it.
	Outputs map[string]string `json:"outputs,omitempty"`
	// Input identifies what the task ran with: a hash of its job spec with its templates
	// filled, the run's dates and its upstream tasks' results. A resumed run reuses a
	// succeeded task whose input is the same.
	Input string `json:"input,omitempty"`
	// ReusedFrom is the pipeline run whose job this is, when a resumed run reused it.
	ReusedFrom string `json:"reusedFrom,omitempty"`
}

// PipelineResultFromError returns the PipelineResult a failed or cancelled pipeline carries.
func PipelineResultFromError(err error) (PipelineResult, bool) {
	return resultFromError[PipelineResult](err, ErrPipelineFailed)
}

var validatePipelineOptions = workflow.LocalActivityOptions{
	StartToCloseTimeout: 30 * time.Second,
	RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3, NonRetryableErrorTypes: []string{activities.ErrInvalidSpec}},
}

// pipelineRun is one Pipeline run's state.
type pipelineRun struct {
	spec    pipeline.Spec
	id      string
	result  PipelineResult
	running map[string]workflow.ChildWorkflowFuture
	ctx     workflow.Context // for show
	dates   *job.Dates       // what every task stands for
	// flow: the run follows versionPipelineFlow (depends, when, outputs, resume, OMITTED).
	flow   bool
	parsed *pipeline.Parsed // the tasks' depends and when, parsed once
	resume *PipelineResume
	rerun  map[string]bool // tasks a resume runs again whatever they did before
}

// versionPipelineFlow marks pipeline runs that know depends expressions, when conditions,
// outputs between tasks and resuming, and that call a task not run for its dependencies
// OMITTED (SKIPPED before).
const versionPipelineFlow = "pipeline-flow"

// versionPipelineDates marks pipeline runs that resolve their dates once and hand them to
// every task.
const versionPipelineDates = "pipeline-dates"

// Pipeline runs a DAG of Spark jobs, each a SparkJob child: ready tasks start as soon as their
// dependencies succeeded, at most spec.Parallelism at once. A failed task (after its retries)
// skips what depends on it and, with failFast, starts nothing new while running tasks finish.
// OnExit runs last, whatever happened. Cancelling the pipeline cancels its running jobs and
// waits for their cleanup (children are never terminated: that would leak their drivers).
//
// Its second argument says what the run stands for (a schedule's nominal time, a date given by
// hand): the dates are resolved once and every task gets the same, so {{ ds }} means the same
// in all of them.
func Pipeline(ctx workflow.Context, spec pipeline.Spec, carry Carry) (PipelineResult, error) {
	p := &pipelineRun{spec: spec, id: workflow.GetInfo(ctx).WorkflowExecution.ID,
		result: PipelineResult{State: StateRunning, Tasks: map[string]TaskResult{}}, running: map[string]workflow.ChildWorkflowFuture{}}
	p.ctx = ctx
	for _, t := range spec.Tasks {
		p.result.Tasks[t.Name] = TaskResult{State: TaskPending}
		p.result.Order = append(p.result.Order, t.Name)
	}
	if spec.OnExit != nil {
		p.result.Tasks[spec.OnExit.Name] = TaskResult{State: TaskPending}
		p.result.Order = append(p.result.Order, spec.OnExit.Name)
	}
	if err := workflow.SetQueryHandler(ctx, QueryPipeline, func() (PipelineResult, error) { return p.result, nil }); err != nil {
		return PipelineResult{}, err
	}
	_ = workflow.UpsertTypedSearchAttributes(ctx, SearchAttrPipeline.ValueSet(p.id), SearchAttrState.ValueSet(StateRunning),
		SearchAttrNamespace.ValueSet(spec.Namespace))
	p.show(ctx)

	in := activities.ValidatePipelineInput{Spec: spec}
	if workflow.GetVersion(ctx, versionPipelineDates, workflow.DefaultVersion, 1) >= 1 {
		in.Dates = datesInput(ctx, carry)
	}
	var v activities.ValidatePipelineOutput
	err := workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, validatePipelineOptions), a.ValidatePipeline, in).Get(ctx, &v)
	if v.Dates != nil {
		p.dates, p.result.Dates = v.Dates, v.Dates
		_ = workflow.UpsertTypedSearchAttributes(ctx, SearchAttrLogicalDate.ValueSet(v.Dates.LogicalDate))
	}
	if err != nil {
		var ae *temporal.ApplicationError
		msg := err.Error()
		if errors.As(err, &ae) {
			msg = ae.Message()
		}
		return PipelineResult{}, temporal.NewNonRetryableApplicationError(msg, activities.ErrInvalidSpec, nil)
	}

	p.flow = workflow.GetVersion(ctx, versionPipelineFlow, workflow.DefaultVersion, 1) >= 1
	if p.flow {
		p.parsed = spec.Parse()
	}
	if p.flow && carry.Resume != nil {
		p.resume = carry.Resume
		p.rerun = spec.Downstream(carry.Resume.Rerun...)
		p.result.ResumedFrom = carry.Resume.From
	}

	p.runDAG(ctx)
	state, reason := p.outcome(ctx)
	if spec.OnExit != nil {
		// Also after a cancel: on a context the cancel does not reach.
		ectx, cancel := workflow.NewDisconnectedContext(ctx)
		defer cancel()
		t := *spec.OnExit
		t.Job.Driver.Env = append(slices.Clone(t.Job.Driver.Env), corev1.EnvVar{Name: "KINDLING_PIPELINE_STATUS", Value: state})
		if p.flow {
			filled, _ := p.fill(t, true) // missing outputs are empty for the exit task
			t.Job = *filled
		}
		p.start(ectx, t, t.Job, 1, "")
		p.wait(ectx)
	}
	p.result.State, p.result.Reason = state, reason
	_ = workflow.UpsertTypedSearchAttributes(ctx, SearchAttrState.ValueSet(state))
	p.show(ctx)
	switch state {
	case StateCancelled:
		return PipelineResult{}, temporal.NewCanceledError(p.result)
	case StateFailed:
		return PipelineResult{}, temporal.NewNonRetryableApplicationError(reason, ErrPipelineFailed, nil, p.result)
	}
	return p.result, nil
}

// runDAG starts tasks as they become ready and returns when none runs and none can start.
func (p *pipelineRun) runDAG(ctx workflow.Context) {
	tries := map[string]int{}
	for {
		stop := ctx.Err() != nil || (p.spec.FailsFast() && p.anyFailed())
		// A task decided without a job (omitted, skipped, reused, failed to start) may let
		// others go: look again until nothing changes.
		for progressed := !stop; progressed; {
			progressed = false
			for _, t := range p.spec.Tasks {
				if p.result.Tasks[t.Name].State != TaskPending || (p.flow && p.spec.FailsFast() && p.anyFailed()) {
					continue
				}
				if p.flow {
					progressed = p.decide(ctx, t, tries) || progressed
					continue
				}
				switch p.readiness(t) {
				case ready:
					if p.spec.Parallelism > 0 && len(p.running) >= p.spec.Parallelism {
						continue
					}
					tries[t.Name]++
					p.start(ctx, t, t.Job, tries[t.Name], "")
				case blocked:
					p.set(t.Name, TaskResult{State: TaskSkipped, Reason: "a dependency did not succeed"})
				}
			}
		}
		if len(p.running) == 0 {
			break
		}
		name := p.waitOne(ctx)
		if r := p.result.Tasks[name]; r.State == TaskFailed {
			// A job that succeeded but wrote a bad output would write it again: not retried.
			badOutput := p.flow && r.Job != nil && r.Job.State == StateCompleted
			if t := p.task(name); t != nil && tries[name] <= t.Retries && ctx.Err() == nil && !badOutput {
				r.State = TaskPending // tried again at the next turn, as a new job
				p.set(name, r)
			}
		}
	}
	left := TaskSkipped
	if p.flow {
		left = TaskOmitted
	}
	for _, name := range p.result.Order {
		if r := p.result.Tasks[name]; r.State == TaskPending && (p.spec.OnExit == nil || name != p.spec.OnExit.Name) {
			why := "the pipeline stopped after a failure (failFast)"
			if ctx.Err() != nil {
				why = "the pipeline was cancelled"
			}
			p.set(name, TaskResult{State: left, Reason: why})
		}
	}
}

// decide moves a pending task on once every task it waits for has ended: omitted when its
// dependencies do not allow it, skipped when its `when` is false, failed when its templates
// cannot be filled, reused from the run it resumes, or started when a slot is free. It
// reports whether the task was settled without a job.
func (p *pipelineRun) decide(ctx workflow.Context, t pipeline.Task, tries map[string]int) bool {
	for _, d := range p.parsed.Upstream[t.Name] {
		if resultName(p.result.Tasks[d].State) == "" {
			return false // still waiting
		}
	}
	if t.Depends != "" {
		if d := p.parsed.Depends[t.Name]; d != nil && !d.Eval(p.resultOf) {
			p.set(t.Name, TaskResult{State: TaskOmitted, Reason: fmt.Sprintf("depends %q was false", t.Depends)})
			return true
		}
	} else {
		for _, d := range t.Dependencies {
			if r := p.resultOf(d); r != pipeline.ResultSucceeded && r != pipeline.ResultSkipped {
				p.set(t.Name, TaskResult{State: TaskOmitted, Reason: fmt.Sprintf("dependency %s %s", d, strings.ToLower(p.result.Tasks[d].State))})
				return true
			}
		}
	}
	if w := p.parsed.When[t.Name]; w != nil {
		var missing error
		run, err := w.Eval(func(name string) string {
			v, _, err := p.value(name)
			if err != nil && missing == nil {
				missing = err
			}
			return v
		})
		if missing != nil {
			err = missing
		}
		switch {
		case err != nil:
			p.set(t.Name, TaskResult{State: TaskFailed, Reason: fmt.Sprintf("when %q: %v", t.When, err)})
			return true
		case !run:
			p.set(t.Name, TaskResult{State: TaskSkipped, Reason: fmt.Sprintf("when %q was false", t.When)})
			return true
		}
	}
	spec, err := p.fill(t, false)
	if err != nil {
		p.set(t.Name, TaskResult{State: TaskFailed, Reason: err.Error()})
		return true
	}
	input := p.fingerprint(t, spec)
	if p.resume != nil && !p.rerun[t.Name] {
		if prev, ok := p.resume.Tasks[t.Name]; ok && prev.State == TaskSucceeded && prev.Input != "" && prev.Input == input {
			if prev.ReusedFrom == "" {
				prev.ReusedFrom = p.resume.From
			}
			prev.Reason = "reused: it succeeded in " + prev.ReusedFrom + " with the same inputs"
			p.set(t.Name, prev)
			return true
		}
	}
	if p.spec.Parallelism > 0 && len(p.running) >= p.spec.Parallelism {
		return false
	}
	tries[t.Name]++
	p.start(ctx, t, *spec, tries[t.Name], input)
	return false
}

// resultName is a task state as a depends expression names it; "" while it has not ended.
func resultName(state string) string {
	switch state {
	case TaskSucceeded:
		return pipeline.ResultSucceeded
	case TaskFailed, TaskCancelled:
		return pipeline.ResultFailed
	case TaskSkipped:
		return pipeline.ResultSkipped
	case TaskOmitted:
		return pipeline.ResultOmitted
	}
	return ""
}

func (p *pipelineRun) resultOf(task string) string { return resultName(p.result.Tasks[task].State) }

// value is a template's value in this run: a task's output or status, or one of the run's
// dates. ok is false for a name it does not know.
func (p *pipelineRun) value(name string) (string, bool, error) {
	ref, ok, err := pipeline.ParseTaskRef(name)
	switch {
	case err != nil:
		return "", true, err
	case !ok:
		if p.dates != nil {
			v, ok := p.dates.Values()[name]
			return v, ok, nil
		}
		return "", false, nil
	}
	r := p.result.Tasks[ref.Task]
	if ref.Key == "" {
		return resultName(r.State), true, nil
	}
	if v, ok := r.Outputs[ref.Key]; ok {
		return v, true, nil
	}
	keys := slices.Sorted(maps.Keys(r.Outputs)) //workflowcheck:ignore (sorted)
	switch {
	case r.State != TaskSucceeded:
		return "", true, fmt.Errorf("{{ %s }}: task %s did not succeed (%s), so it has no output", name, ref.Task, strings.ToLower(r.State))
	case len(keys) == 0:
		return "", true, fmt.Errorf("{{ %s }}: task %s wrote no output (a JSON object in %s)", name, ref.Task, pipeline.OutputPath)
	}
	return "", true, fmt.Errorf("{{ %s }}: task %s's output has no key %s (its keys: %s)", name, ref.Task, ref.Key, strings.Join(keys, ", "))
}

// fill returns the task's job with the task templates ({{ tasks.a.outputs.rows }}, {{
// tasks.a.status }}) filled; the dates' templates are the job's own Validate's to fill. A
// missing output is an error, except for the exit task, which gets the empty string.
func (p *pipelineRun) fill(t pipeline.Task, exit bool) (*job.JobSpec, error) {
	var errs []string
	//workflowcheck:ignore (ReplaceTemplates visits sparkConf and envVars in sorted key order)
	spec := job.ReplaceTemplates(&t.Job, func(name string) (string, bool) {
		if !strings.HasPrefix(name, "tasks.") {
			return "", false
		}
		v, _, err := p.value(name)
		if err != nil && !exit {
			errs = append(errs, err.Error())
		}
		return v, true
	})
	if len(errs) > 0 {
		return nil, errors.New(strings.Join(errs, "; "))
	}
	return spec, nil
}

// fingerprint identifies a task's inputs: its filled job spec, its when, the run's dates, and
// each upstream task's result, outputs and own fingerprint, so a change anywhere upstream
// changes it.
func (p *pipelineRun) fingerprint(t pipeline.Task, spec *job.JobSpec) string {
	type upstream struct {
		Task, State, Input string
		Outputs            map[string]string
	}
	in := struct {
		Job      *job.JobSpec
		When     string
		Dates    *job.Dates
		Upstream []upstream
	}{Job: spec, When: t.When, Dates: p.dates}
	ups := slices.Clone(p.parsed.Upstream[t.Name])
	slices.Sort(ups)
	for _, d := range ups {
		r := p.result.Tasks[d]
		in.Upstream = append(in.Upstream, upstream{Task: d, State: r.State, Input: r.Input, Outputs: r.Outputs})
	}
	b, err := json.Marshal(in) //workflowcheck:ignore (encoding/json writes map keys sorted: the same bytes on every replay)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

type readiness int

const (
	waiting readiness = iota
	ready
	blocked
)

func (p *pipelineRun) readiness(t pipeline.Task) readiness {
	out := ready
	for _, d := range t.Dependencies {
		switch p.result.Tasks[d].State {
		case TaskSucceeded:
		case TaskFailed, TaskSkipped, TaskCancelled:
			return blocked
		default:
			out = waiting
		}
	}
	return out
}

func (p *pipelineRun) anyFailed() bool {
	for _, name := range p.result.Order {
		if p.result.Tasks[name].State == TaskFailed && !p.handled(name) {
			return true
		}
	}
	return false
}

// handled: a task's depends names name.Failed, so the pipeline expects that failure.
func (p *pipelineRun) handled(name string) bool {
	return p.flow && p.parsed.Handled[name]
}

func (p *pipelineRun) task(name string) *pipeline.Task {
	for i := range p.spec.Tasks {
		if p.spec.Tasks[i].Name == name {
			return &p.spec.Tasks[i]
		}
	}
	return nil
}

// TaskWorkflowID is the SparkJob of a pipeline's task: try 1 is <pipeline>/<task>, a retry
// <pipeline>/<task>#<try>.
func TaskWorkflowID(pipelineID, task string, try int) string {
	id := pipelineID + "/" + task
	if try > 1 {
		id += fmt.Sprintf("#%d", try)
	}
	return id
}

// start starts a task's SparkJob child with spec (the task's job, its templates filled).
func (p *pipelineRun) start(ctx workflow.Context, t pipeline.Task, spec job.JobSpec, try int, input string) {
	id := TaskWorkflowID(p.id, t.Name, try)
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:          id,
		ParentClosePolicy:   enumspb.PARENT_CLOSE_POLICY_REQUEST_CANCEL,
		WaitForCancellation: true,
		StaticSummary:       fmt.Sprintf("task %s of pipeline %s · %s", t.Name, p.spec.Name, Summary(&spec)),
		TypedSearchAttributes: temporal.NewSearchAttributes(
			SearchAttrPipeline.ValueSet(p.id), SearchAttrTask.ValueSet(t.Name),
			SearchAttrJobName.ValueSet(spec.Name), SearchAttrNamespace.ValueSet(spec.Namespace), SearchAttrState.ValueSet(StateRunning),
		),
	})
	now := workflow.Now(ctx)
	p.running[t.Name] = workflow.ExecuteChildWorkflow(cctx, WorkflowName, spec, Carry{Dates: p.dates})
	p.set(t.Name, TaskResult{State: TaskRunning, WorkflowID: id, Tries: try, StartedAt: &now, Input: input})
}

// waitOne waits for one running task to end, records how, and returns its name.
func (p *pipelineRun) waitOne(ctx workflow.Context) string {
	var done string
	sel := workflow.NewSelector(ctx)
	for _, name := range p.result.Order { // a map's order is not deterministic; the file's is
		if f, ok := p.running[name]; ok {
			sel.AddFuture(f, func(workflow.Future) { done = name })
		}
	}
	sel.Select(ctx) // a cancel reaches the children, whose futures then resolve
	p.finish(ctx, done)
	return done
}

// wait waits for every running task.
func (p *pipelineRun) wait(ctx workflow.Context) {
	for len(p.running) > 0 {
		p.waitOne(ctx)
	}
}

// finish records a finished child.
func (p *pipelineRun) finish(ctx workflow.Context, name string) {
	f := p.running[name]
	delete(p.running, name)
	r := p.result.Tasks[name]
	var we workflow.Execution
	if f.GetChildWorkflowExecution().Get(ctx, &we) == nil {
		r.RunID = we.RunID
	}
	var res JobResult
	err := f.Get(ctx, &res)
	now := workflow.Now(ctx)
	r.EndedAt = &now
	switch {
	case err == nil:
		r.State, r.Reason = TaskSucceeded, ""
		r.Job = &res
		if p.flow {
			out, err := pipeline.ParseOutputs(res.Output) //workflowcheck:ignore (a pure function of its input; its map is only read by key)
			if err != nil {
				r.State, r.Reason = TaskFailed, err.Error()
			}
			r.Outputs = out
			res.Output = "" // kept once, parsed: the pipeline's result stays small
		}
	default:
		if jr, ok := ResultFromError(err); ok {
			r.Job = &jr
			r.Reason = jr.Reason
		}
		if r.Reason == "" {
			r.Reason = message(err)
		}
		r.State = TaskFailed
		if temporal.IsCanceledError(err) || (r.Job != nil && r.Job.State == StateCancelled) {
			r.State = TaskCancelled
		}
	}
	p.set(name, r)
}

func (p *pipelineRun) set(name string, r TaskResult) {
	p.result.Tasks[name] = r
	p.show(p.ctx)
}

// outcome is the pipeline's state once its DAG ran: CANCELLED if it was cancelled, FAILED
// with the first failed task's reason, else COMPLETED.
func (p *pipelineRun) outcome(ctx workflow.Context) (string, string) {
	if ctx.Err() != nil {
		return StateCancelled, "cancelled"
	}
	for _, name := range p.result.Order {
		if r := p.result.Tasks[name]; r.State == TaskFailed && !p.handled(name) {
			return StateFailed, fmt.Sprintf("task %s failed: %s", name, r.Reason)
		}
	}
	return StateCompleted, ""
}

// show puts the DAG's state in the UI's current details, as a table.
func (p *pipelineRun) show(ctx workflow.Context) {
	var b strings.Builder
	b.WriteString(fmt.Sprintf("**%s** · pipeline %s\n\n| task | state | job | reason |\n|---|---|---|---|\n", p.result.State, p.spec.Name))
	for _, name := range p.result.Order {
		r := p.result.Tasks[name]
		b.WriteString(fmt.Sprintf("| %s | %s | %s | %s |\n", name, r.State, r.WorkflowID, strings.ReplaceAll(r.Reason, "|", "/")))
	}
	workflow.SetCurrentDetails(ctx, b.String())
}
