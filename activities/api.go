// Package activities holds the SparkJob workflow's activities: the only code that talks
// to Kubernetes and to dependency servers. Every activity is idempotent.
package activities

import (
	"time"

	"github.com/kindling-dev/kindling/k8s/cluster"
	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/k8s/render"
)

// Application error types: workflows branch on these (errors.Is does not cross the
// activity boundary).
const (
	ErrInvalidSpec = "InvalidSpec"      // non-retryable: the spec breaks a rule
	ErrDependency  = "DependencyFailed" // non-retryable: a dependency is missing or malformed
	// ErrDependencyUnavailable is retried: the server answered 5xx or not at all. Once the
	// activity's retries are spent, the job fails as for ErrDependency.
	ErrDependencyUnavailable = "DependencyUnavailable"
	ErrSubmission            = "SubmissionFailed" // creating the attempt's objects failed for good
	// ErrSubmissionRetryable is retried by Create's policy: the API server timed out, was
	// busy or unreachable. Once the retries are spent the attempt ends as a submission failure.
	ErrSubmissionRetryable = "SubmissionRetryable"
	ErrForeignObject       = "ForeignObject" // an object with our name exists but is not ours
)

// ValidateInput / ValidateOutput: the Validate stage (a local activity: pure).
type ValidateInput struct {
	Spec  job.JobSpec
	Dates DatesInput `json:",omitzero"`
}

type ValidateOutput struct {
	Spec  job.JobSpec // with defaults applied and templates filled
	Dates *job.Dates  `json:",omitempty"` // what the run stands for, when it stands for a date
}

// DatesInput is what the workflow knows of the dates a run stands for; Validate resolves it
// (ResolveDates) and fills the spec's templates with the result. The first that is set wins:
// Given (carried across continue-as-new), LogicalDate (given by hand), Nominal (the
// schedule's fire time, with the schedule to find the data interval's start), Started.
type DatesInput struct {
	Given       *job.Dates `json:",omitempty"`
	LogicalDate *time.Time `json:",omitempty"`
	Nominal     *time.Time `json:",omitempty"`
	Schedule    string     `json:",omitempty"` // spec.schedule as written
	TimeZone    string     `json:",omitempty"` // spec.timeZone
	Started     time.Time  `json:",omitzero"`
}

// Dependency is one checked dependency, as recorded in history and the job's result.
type Dependency struct {
	URI      string `json:"uri"`
	Kind     string `json:"kind"`     // mainApplicationFile, jar, file, pyFile, archive
	Verified bool   `json:"verified"` // false: passed through to Spark unchecked (local://, s3a://, …)
	Size     int64  `json:"size,omitempty"`
	SHA256   string `json:"sha256,omitempty"`
	ETag     string `json:"etag,omitempty"`
	Note     string `json:"note,omitempty"`
}

type FetchDependenciesInput struct {
	Spec job.JobSpec
}

type FetchDependenciesOutput struct {
	Dependencies []Dependency
}

// RenderInput / RenderOutput: the Render stage (a local activity: pure).
type RenderInput struct {
	Spec    job.JobSpec
	Options render.Options
}

type RenderOutput struct {
	Rendered render.Rendered
}

type CreateInput struct {
	Rendered render.Rendered
}

type CreateOutput struct {
	DriverPod string
	DriverUID string
	// TraceID is the OpenTelemetry trace the attempt was created in (tracing on), also on the
	// driver pod as the annotation kindling.dev/trace-id.
	TraceID string `json:",omitempty"`
}

// SuperviseInput names the attempt to follow.
type SuperviseInput struct {
	Namespace string
	AppID     string
	DriverPod string
	DriverUID string
	// How long the driver may stay unscheduled, and wait on an image, before the attempt fails.
	StartTimeout     time.Duration
	ImagePullTimeout time.Duration
	// MaxRunTime ends the attempt when it has run this long; 0: no bound.
	MaxRunTime time.Duration
	// SignalProgress: signal the workflow (SignalProgress) when what a person sees changes.
	SignalProgress bool
}

// SignalProgress is the signal Supervise sends its workflow with a LiveProgress: when the
// driver's phase, the executor counts or the reason change, at most every progressEvery.
const SignalProgress = "supervise-progress"

// LiveProgress is what a person watching a job sees of its attempt: the driver's phase and
// the executor counts. DriverPod says which attempt it is of.
type LiveProgress struct {
	DriverPod        string `json:"driverPod"`
	DriverPhase      string `json:"driverPhase"`
	ExecutorsRunning int    `json:"executorsRunning"`
	ExecutorsPending int    `json:"executorsPending"`
	ExecutorsFailed  int    `json:"executorsFailed"`
	LastReason       string `json:"lastReason,omitempty"`
}

// Outcome kinds of one attempt, as cluster.Classify names them.
const (
	OutcomeSucceeded     = cluster.OutcomeSucceeded
	OutcomeAppFailed     = cluster.OutcomeAppFailed
	OutcomeOOMKilled     = cluster.OutcomeOOMKilled
	OutcomeEvicted       = cluster.OutcomeEvicted
	OutcomeImagePull     = cluster.OutcomeImagePull
	OutcomeMissingConfig = cluster.OutcomeMissingConfig
	OutcomeUnschedulable = cluster.OutcomeUnschedulable
	OutcomeDriverDeleted = cluster.OutcomeDriverDeleted
)

// SuperviseProgress is the compact state Supervise heartbeats, and resumes from after a
// worker restart.
type SuperviseProgress = cluster.Progress

// SuperviseOutput is how the attempt ended, as cluster.Classify says it.
type SuperviseOutput = cluster.Ending

// CleanupInput names what one attempt created.
type CleanupInput struct {
	Namespace string
	DriverPod string
	// DriverUID, when set, is the only pod named DriverPod that may be deleted: a pod of the
	// same name made by someone else stays.
	DriverUID string
	AppID     string // executors are found by spark-app-selector=<AppID>
	// Label selector for anything left: kindling.dev/run=<hash>[,kindling.dev/attempt=N]
	Selector string
}
