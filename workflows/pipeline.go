package workflows

import (
	"errors"
	"fmt"
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
	TaskSkipped   = "SKIPPED" // a dependency did not succeed, or failFast stopped it
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
}

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

	p.runDAG(ctx)
	state, reason := p.outcome(ctx)
	if spec.OnExit != nil {
		// Also after a cancel: on a context the cancel does not reach.
		ectx, cancel := workflow.NewDisconnectedContext(ctx)
		defer cancel()
		t := *spec.OnExit
		t.Job.Driver.Env = append(slices.Clone(t.Job.Driver.Env), corev1.EnvVar{Name: "KINDLING_PIPELINE_STATUS", Value: state})
		p.start(ectx, t, 1)
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
		if !stop {
			for _, t := range p.spec.Tasks {
				if p.result.Tasks[t.Name].State != TaskPending {
					continue
				}
				switch p.readiness(t) {
				case ready:
					if p.spec.Parallelism > 0 && len(p.running) >= p.spec.Parallelism {
						continue
					}
					tries[t.Name]++
					p.start(ctx, t, tries[t.Name])
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
			if t := p.task(name); t != nil && tries[name] <= t.Retries && ctx.Err() == nil {
				r.State = TaskPending // tried again at the next turn, as a new job
				p.set(name, r)
			}
		}
	}
	for _, name := range p.result.Order {
		if r := p.result.Tasks[name]; r.State == TaskPending && (p.spec.OnExit == nil || name != p.spec.OnExit.Name) {
			why := "the pipeline stopped after a failure (failFast)"
			if ctx.Err() != nil {
				why = "the pipeline was cancelled"
			}
			p.set(name, TaskResult{State: TaskSkipped, Reason: why})
		}
	}
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
		if p.result.Tasks[name].State == TaskFailed {
			return true
		}
	}
	return false
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

// start starts a task's SparkJob child.
func (p *pipelineRun) start(ctx workflow.Context, t pipeline.Task, try int) {
	spec := t.Job
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
	p.set(t.Name, TaskResult{State: TaskRunning, WorkflowID: id, Tries: try, StartedAt: &now})
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
		if r := p.result.Tasks[name]; r.State == TaskFailed {
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
