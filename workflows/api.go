// Package workflows holds Kindling's workflows: SparkJob runs one Spark application through
// its stages (validate, fetch dependencies, then per attempt render, create, supervise, clean
// up) and CleanupAfter removes a finished job's objects once its time to live ends.
//
// Workflow code is deterministic: no I/O, no time.Now, no map iteration without sorting. Every
// change to workflow logic goes behind workflow.GetVersion so running jobs replay unchanged
// (replay_test.go replays the saved histories in testdata/histories).
package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/kindling-dev/kindling/activities"
	"github.com/kindling-dev/kindling/k8s/job"
)

// Names a client uses to start and follow a job.
const (
	TaskQueue                = "kindling"
	WorkflowName             = "SparkJob"
	CleanupAfterWorkflowName = "CleanupAfter"
	SweepWorkflowName        = "KindlingSweep"
	// SweepScheduleID is the Temporal Schedule a worker keeps to run the sweep, per task queue.
	SweepSchedulePrefix = "kindling-sweep-"
	// QueryStatus returns a Status.
	QueryStatus = "status"
)

// Job states: the result's State, the status query's State and the KindlingState search
// attribute.
const (
	StateRunning   = "RUNNING"
	StateCompleted = "COMPLETED"
	StateFailed    = "FAILED"
	StateCancelled = "CANCELLED"
)

// Stages, as the status query reports them.
const (
	StageValidating   = "validating"
	StageFetchingDeps = "fetching-dependencies"
	StageRendering    = "rendering"
	StageCreating     = "creating"
	StageSupervising  = "supervising"
	StageCleaningUp   = "cleaning-up"
	StageWaitingRetry = "waiting-to-retry"
	StageDone         = "done"
)

// Typed search attributes SparkJob upserts, so the UI and `temporal workflow list` can find
// jobs by name, app id, state and attempt.
var (
	SearchAttrJobName   = temporal.NewSearchAttributeKeyKeyword("KindlingJobName")
	SearchAttrAppID     = temporal.NewSearchAttributeKeyKeyword("KindlingAppId")
	SearchAttrState     = temporal.NewSearchAttributeKeyKeyword("KindlingState")
	SearchAttrNamespace = temporal.NewSearchAttributeKeyKeyword("KindlingNamespace")
	SearchAttrAttempt   = temporal.NewSearchAttributeKeyInt64("KindlingAttempt")
	// SearchAttrLogicalDate is the date a scheduled, backfilled or dated run stands for.
	SearchAttrLogicalDate = temporal.NewSearchAttributeKeyTime("KindlingLogicalDate")
	// SearchAttrScheduledStart and SearchAttrScheduledBy are Temporal's own, on every run a
	// schedule starts: its nominal fire time and the schedule's ID.
	SearchAttrScheduledStart = temporal.NewSearchAttributeKeyTime("TemporalScheduledStartTime")
	SearchAttrScheduledBy    = temporal.NewSearchAttributeKeyKeyword("TemporalScheduledById")
)

// SearchAttributes maps each search attribute above to its type as `temporal operator
// search-attribute create --type` spells it; the dev stack and deployments register these.
var SearchAttributes = map[string]string{
	"KindlingJobName":     "Keyword",
	"KindlingAppId":       "Keyword",
	"KindlingState":       "Keyword",
	"KindlingNamespace":   "Keyword",
	"KindlingAttempt":     "Int",
	"KindlingLogicalDate": "Datetime",
	"KindlingPipeline":    "Keyword",
	"KindlingTask":        "Keyword",
}

// Policy numbers.
const (
	// OOMOverheadFactor raises a memory overhead after an OOMKilled attempt: next = ceil(prev × 1.5).
	OOMOverheadFactorNum, OOMOverheadFactorDen = 3, 2
	// OOMOverheadMaxMultiple bounds the raise: never above 4× the first attempt's overhead, so
	// a job that leaks memory cannot grow until it asks for a whole node.
	OOMOverheadMaxMultiple = 4

	// DefaultFailureTTL keeps a failed job's driver this long so its logs can be read, when the
	// spec sets no timeToLiveSeconds. A successful job is cleaned up at once by default.
	DefaultFailureTTL = time.Hour
	// ScheduledRunKeep bounds how long a scheduled run's driver is kept for its schedule's
	// run history limit when the spec sets no timeToLiveSeconds: a newer run of the same
	// outcome releases it sooner.
	ScheduledRunKeep = 7 * 24 * time.Hour
	// DefaultRetryInterval is the operator's default for onFailureRetryInterval and
	// onSubmissionFailureRetryInterval when the policy is not Never.
	DefaultRetryInterval = 5 * time.Second
	// MaxAttempts bounds attempts in one workflow run (restartPolicy Always restarts forever in
	// the operator): each attempt adds about 25 history events, and history must stay bounded.
	MaxAttempts = 100

	// SuperviseTimeout was the longest one attempt could run, in runs recorded before
	// versionRunIdentity; later runs have no fixed cap (SuperviseUncapped), and a job sets
	// its own with job.ConfMaxRunTime.
	SuperviseTimeout  = 24 * time.Hour
	SuperviseUncapped = 100 * 365 * 24 * time.Hour
	// DriverStartTimeout and ImagePullTimeout: how long a driver may stay unscheduled, or wait
	// on its image, before Supervise fails the attempt. A job may set its own with
	// job.ConfDriverStartTimeout and job.ConfImagePullTimeout in its sparkConf.
	DriverStartTimeout = job.DefaultDriverStartTimeout
	ImagePullTimeout   = job.DefaultImagePullTimeout
)

// Status is what the status query returns: the job's live state.
type Status struct {
	State string `json:"state"`
	Stage string `json:"stage"`
	// Run is 1, then 2, 3, … as a restartPolicy Always job continues as new.
	Run int `json:"run,omitempty"`
	// Attempt counts every attempt of the job, across its runs.
	Attempt          int    `json:"attempt"`
	AppID            string `json:"appId,omitempty"`
	DriverPod        string `json:"driverPod,omitempty"`
	DriverPhase      string `json:"driverPhase,omitempty"`
	ExecutorsRunning int    `json:"executorsRunning"`
	ExecutorsPending int    `json:"executorsPending"`
	ExecutorsFailed  int    `json:"executorsFailed"`
	LastReason       string `json:"lastReason,omitempty"`
	// NextAttemptAt is set while the job waits out a retry interval.
	NextAttemptAt *time.Time `json:"nextAttemptAt,omitempty"`
	// Dates are what a scheduled, backfilled or dated run stands for.
	Dates *job.Dates `json:"dates,omitempty"`
	// KeptUntil: the last attempt's objects (its driver, for its logs) are kept until then.
	KeptUntil *time.Time `json:"keptUntil,omitempty"`
}

// JobResult is SparkJob's result.
//
// How a job ends, as Temporal records it:
//   - COMPLETED: the workflow completes with this result.
//   - FAILED: the workflow fails with a non-retryable ApplicationError of type ErrJobFailed
//     whose message is the reason and whose details are this result, so the UI, a
//     ExecutionStatus="Failed" query, a parent workflow and a schedule's pause-on-failure all
//     see a failure. (Runs recorded before versionRunIdentity completed with State FAILED.)
//   - CANCELLED: the workflow ends as Canceled (what someone who pressed Cancel expects to see)
//     and this result travels as the CanceledError's details.
//   - An invalid spec fails the workflow with a non-retryable ApplicationError of type
//     activities.ErrInvalidSpec whose message names the field; nothing was created.
//
// ResultFromError reads the result out of a failed or cancelled run.
type JobResult struct {
	State        string                  `json:"state"`
	Reason       string                  `json:"reason,omitempty"`
	AppID        string                  `json:"appId,omitempty"`
	Attempts     []AttemptResult         `json:"attempts"`
	Dependencies []activities.Dependency `json:"dependencies"`
	Dates        *job.Dates              `json:"dates,omitempty"`
	// Output is what a succeeded driver wrote as its termination message (at most 4 KiB): a
	// pipeline reads it as the task's outputs.
	Output string `json:"output,omitempty"`
	// TraceID is the OpenTelemetry trace of the job (when tracing is on): from `kindling
	// submit` through each stage to the Kubernetes calls.
	TraceID string `json:"traceId,omitempty"`
	// KeptUntil: the last attempt's objects (its driver, for its logs) are kept until then
	// for the job's time to live, and deleted after it.
	KeptUntil *time.Time `json:"keptUntil,omitempty"`
}

// AttemptResult is one attempt: one set of driver, service and conf objects with fresh names.
type AttemptResult struct {
	Attempt int    `json:"attempt"`
	State   string `json:"state"`
	// Outcome is Supervise's classification (activities.Outcome*), or "SubmissionFailed".
	Outcome                   string    `json:"outcome,omitempty"`
	Reason                    string    `json:"reason,omitempty"`
	ExitCode                  int32     `json:"exitCode"`
	DriverPod                 string    `json:"driverPod,omitempty"`
	AppID                     string    `json:"appId,omitempty"`
	DriverMemory              string    `json:"driverMemory,omitempty"` // container request = limit, e.g. "1408Mi"
	DriverMemoryOverheadMiB   int64     `json:"driverMemoryOverheadMiB"`
	ExecutorMemoryOverheadMiB int64     `json:"executorMemoryOverheadMiB"`
	StartedAt                 time.Time `json:"startedAt"`
	EndedAt                   time.Time `json:"endedAt"`
	// LogTail is the end of a failed driver's log (at most 20 lines, 4 KiB).
	LogTail string `json:"logTail,omitempty"`
}

// Carry is SparkJob's second argument: what a run hands the next when it continues as new
// (restartPolicy Always, every MaxAttempts attempts) — where its restart policy and memory
// stood — and what a starter says of the run's dates. A client starting a job passes none.
type Carry struct {
	Run                      int   `json:"run"`
	AttemptsBefore           int   `json:"attemptsBefore"`
	RunFailures              int   `json:"runFailures,omitempty"`
	SubmissionFailures       int   `json:"submissionFailures,omitempty"`
	DriverOverheadMiB        int64 `json:"driverOverheadMiB,omitempty"`
	ExecutorOverheadMiB      int64 `json:"executorOverheadMiB,omitempty"`
	FirstDriverOverheadMiB   int64 `json:"firstDriverOverheadMiB,omitempty"`
	FirstExecutorOverheadMiB int64 `json:"firstExecutorOverheadMiB,omitempty"`

	// What the run stands for (its logical date): Dates once resolved (carried across
	// continue-as-new), else LogicalDate given by hand (`kindling submit --logical-date`),
	// else the nominal time of the Schedule that started it.
	Dates       *job.Dates   `json:"dates,omitempty"`
	LogicalDate *time.Time   `json:"logicalDate,omitempty"`
	Schedule    *ScheduleRef `json:"schedule,omitempty"`

	// Resume, for a Pipeline, is the earlier run this one resumes (`kindling pipeline resume`).
	Resume *PipelineResume `json:"resume,omitempty"`

	// App is set by the controller: the SparkApplication object this run is for. Its driver
	// takes the operator's name, labels and an owner reference to the object, and the last
	// attempt's objects stay until the object is deleted (as with the operator), unless the
	// run is cancelled.
	App *AppRef `json:"app,omitempty"`
}

// AppRef names the SparkApplication a controller-mode run is for.
type AppRef struct {
	Name       string `json:"name"`
	UID        string `json:"uid"`
	Generation int64  `json:"generation"`
	DriverPod  string `json:"driverPod"`
}

// PipelineResume is what a resumed pipeline run reuses: the earlier run's tasks. A task that
// succeeded there, with the same inputs (its job spec with its templates filled, the run's
// dates, and its upstream tasks' results), is not run again.
type PipelineResume struct {
	From  string                `json:"from"` // the earlier run's workflow ID
	Tasks map[string]TaskResult `json:"tasks"`
	// Rerun are tasks that run again whatever they did before, with everything downstream of
	// them (`--from TASK`).
	Rerun []string `json:"rerun,omitempty"`
}

// ScheduleRef names the schedule that starts a run, and how it fires: from these and the
// nominal time Temporal gives the run, the run finds its data interval.
type ScheduleRef struct {
	ID       string `json:"id"`
	Cron     string `json:"cron"`               // spec.schedule as written
	TimeZone string `json:"timeZone,omitempty"` // spec.timeZone
	// How many finished runs of each outcome keep their driver for log reading (the
	// operator's successfulRunHistoryLimit and failedRunHistoryLimit; unset: 1 each).
	SuccessfulRunHistoryLimit *int32 `json:"successfulRunHistoryLimit,omitempty"`
	FailedRunHistoryLimit     *int32 `json:"failedRunHistoryLimit,omitempty"`
}

// historyLimit is how many finished runs that ended in state keep their objects.
func (r *ScheduleRef) historyLimit(state string) int {
	l := r.SuccessfulRunHistoryLimit
	if state != StateCompleted {
		l = r.FailedRunHistoryLimit
	}
	if l == nil {
		return 1
	}
	return int(*l)
}

// CleanupAfterInput is CleanupAfter's input: wait Delay, then delete what Cleanup names.
type CleanupAfterInput struct {
	Delay   time.Duration
	Cleanup activities.CleanupInput
}

// ErrJobFailed is the ApplicationError type of a SparkJob whose application failed.
const ErrJobFailed = "SparkJobFailed"

// ResultFromError returns the JobResult a failed or cancelled SparkJob carries in its error.
func ResultFromError(err error) (JobResult, bool) {
	return resultFromError[JobResult](err, ErrJobFailed)
}

// resultFromError reads the result a workflow's failure (an ApplicationError of failedType) or
// cancellation carries as its details.
func resultFromError[T any](err error, failedType string) (T, bool) {
	var res T
	var ce *temporal.CanceledError
	if errors.As(err, &ce) {
		return res, ce.HasDetails() && ce.Details(&res) == nil
	}
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) && ae.Type() == failedType {
		return res, ae.HasDetails() && ae.Details(&res) == nil
	}
	return res, false
}

// CleanupWorkflowID is the ID of the CleanupAfter a SparkJob run starts (see
// activities.CleanupWorkflowID, which the sweep reads it by).
func CleanupWorkflowID(runID string) string { return activities.CleanupWorkflowID(runID) }

// Registry is the part of a worker (or a replayer) that registers workflows.
type Registry interface {
	RegisterWorkflowWithOptions(w any, options workflow.RegisterOptions)
}

// Register registers SparkJob and CleanupAfter under their names. Activities are registered
// by the worker, as one *activities.Activities value.
func Register(r Registry) {
	r.RegisterWorkflowWithOptions(SparkJob, workflow.RegisterOptions{Name: WorkflowName})
	r.RegisterWorkflowWithOptions(CleanupAfter, workflow.RegisterOptions{Name: CleanupAfterWorkflowName})
	r.RegisterWorkflowWithOptions(Sweep, workflow.RegisterOptions{Name: SweepWorkflowName})
	r.RegisterWorkflowWithOptions(Pipeline, workflow.RegisterOptions{Name: PipelineWorkflowName})
	r.RegisterWorkflowWithOptions(ScheduledAppRun, workflow.RegisterOptions{Name: ScheduledAppRunWorkflowName})
	r.RegisterWorkflowWithOptions(SparkSession, workflow.RegisterOptions{Name: SessionWorkflowName})
}
