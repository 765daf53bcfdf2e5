package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/kindling-dev/kindling/activities"
	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/k8s/render"
)

// a names the activities for the workflow; the worker registers the real value.
var a *activities.Activities

// Activity options, one per stage: each stage has its own timeouts and retries.
var (
	validateOptions = workflow.LocalActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			MaximumAttempts:        3,
			NonRetryableErrorTypes: []string{activities.ErrInvalidSpec},
		},
	}
	fetchOptions = workflow.ActivityOptions{
		StartToCloseTimeout:    15 * time.Minute,
		ScheduleToCloseTimeout: time.Hour,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        2 * time.Second,
			MaximumInterval:        time.Minute,
			MaximumAttempts:        5,
			NonRetryableErrorTypes: []string{activities.ErrDependency, activities.ErrInvalidSpec},
		},
	}
	renderOptions = workflow.LocalActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			MaximumAttempts:        3,
			NonRetryableErrorTypes: []string{activities.ErrInvalidSpec},
		},
	}
	createOptions = workflow.ActivityOptions{
		StartToCloseTimeout:    2 * time.Minute,
		ScheduleToCloseTimeout: 15 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			MaximumInterval:        30 * time.Second,
			MaximumAttempts:        8,
			NonRetryableErrorTypes: []string{activities.ErrSubmission, activities.ErrForeignObject, activities.ErrInvalidSpec},
		},
	}
	// Supervise retries without a count: its errors are infrastructure (API server, worker
	// restart), and each retry resumes from the last heartbeat. Runs of versionRunIdentity on
	// have no fixed cap (superviseOptionsUncapped); a job bounds itself with maxRunTime.
	superviseOptions = workflow.ActivityOptions{
		StartToCloseTimeout:    SuperviseTimeout,
		ScheduleToCloseTimeout: SuperviseTimeout,
		HeartbeatTimeout:       30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second,
			MaximumInterval: time.Minute,
		},
	}
	// Cleanup keeps trying for an hour: leaving a driver behind costs a node's worth of money.
	cleanupOptions = workflow.ActivityOptions{
		StartToCloseTimeout:    2 * time.Minute,
		ScheduleToCloseTimeout: time.Hour,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second,
			MaximumInterval: time.Minute,
		},
	}
)

// versionRunIdentity marks runs in which every run owns its objects (names from the run ID,
// cleanup by the attempt's selector and the driver's UID, Create awaited on cancel), a failed
// job fails its workflow, every heartbeating activity has a heartbeat timeout, and Supervise
// has no fixed cap. Runs recorded before it replay as they ran.
const versionRunIdentity = "run-identity"

// versionContinueAsNew marks runs that, with restartPolicy Always, continue as new after
// MaxAttempts attempts instead of stopping, carrying where the job stood (Carry).
const versionContinueAsNew = "continue-as-new"

// versionLogicalDates marks runs that resolve the dates they stand for (a schedule's nominal
// time, a date given by hand) in Validate, fill the spec's templates with them and record them
// as KindlingLogicalDate.
const versionLogicalDates = "logical-dates"

// versionHistoryLimits marks runs that, started by a schedule, keep their objects for the
// schedule's run history limits and release older runs' objects beyond them.
const versionHistoryLimits = "run-history-limits"

// versionControllerMode marks runs the controller starts for a SparkApplication (Carry.App):
// operator names, labels and owner, and the last attempt's objects kept for the object.
const versionControllerMode = "controller-mode"

// versionLiveProgress marks runs whose Supervise signals what it sees (driver phase, executor
// counts) when it changes, at most every few seconds, so the status query and the UI's current
// details are live; older runs learned them only when the attempt ended.
const versionLiveProgress = "live-progress"

// versionKeepByMark marks runs that keep a finished attempt's objects for their time to live
// by marking them (KeepObjects: the worker deletes them once the mark's time passes) instead of
// a CleanupAfter child, whose row looked like a running job in the UI for the whole TTL.
const versionKeepByMark = "keep-by-mark"

// keepOptions: KeepObjects patches a few objects.
var keepOptions = workflow.ActivityOptions{
	StartToCloseTimeout: time.Minute,
	RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 10 * time.Second, MaximumAttempts: 5},
}

// versionCurrent marks runs that start with every change above at its latest version: one
// marker (and one TemporalChangeVersion upsert) instead of one per change, so a job's history
// is shorter and Temporal's visibility store is written less. Runs recorded before it ask
// each change as they did. A new change goes behind its own GetVersion, asked by every run;
// the next bundle of them may become versionCurrent's version 2.
const versionCurrent = "current-2026-11"

// pruneOptions: PruneRuns lists and cancels a few workflows.
var pruneOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 30 * time.Second,
	RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 5},
}

// versionCreateHeartbeat marks runs whose CreateResources heartbeats (createOptionsHeartbeat).
const versionCreateHeartbeat = "create-heartbeat"

// createOptionsHeartbeat: a worker killed while creating is noticed after 20 seconds.
var createOptionsHeartbeat = withHeartbeat(withWaitForCancellation(createOptions), 20*time.Second)

// Options of runs from versionRunIdentity on.
var (
	// A cancel waits for Create to finish, so Cleanup never runs while a driver is still
	// being created.
	createOptionsAwaited     = withWaitForCancellation(createOptions)
	fetchOptionsHeartbeat    = withHeartbeat(fetchOptions, time.Minute)
	cleanupOptionsHeartbeat  = withHeartbeat(cleanupOptions, 30*time.Second)
	superviseOptionsUncapped = workflow.ActivityOptions{
		StartToCloseTimeout: SuperviseUncapped,
		HeartbeatTimeout:    30 * time.Second,
		RetryPolicy:         superviseOptions.RetryPolicy,
	}
	// From versionCurrent on: a supervisor heartbeats once a minute when nothing changes (a
	// thousand jobs, under 17 RPC/s), so a worker killed outright is noticed within 2 minutes;
	// one that stops gracefully hands its supervisors over at once.
	superviseOptionsCurrent = withHeartbeat(superviseOptionsUncapped, 2*time.Minute)
)

func withWaitForCancellation(o workflow.ActivityOptions) workflow.ActivityOptions {
	o.WaitForCancellation = true
	return o
}

func withHeartbeat(o workflow.ActivityOptions, d time.Duration) workflow.ActivityOptions {
	o.HeartbeatTimeout = d
	return o
}

// jobRun is one SparkJob run's state: what the status query shows and what the result returns.
type jobRun struct {
	spec    job.JobSpec
	carry   Carry
	wfID    string
	runID   string // set from versionRunIdentity on: names and labels derive from it
	version workflow.Version
	// createHeartbeat: from versionCreateHeartbeat on, CreateResources heartbeats, so a worker
	// that dies while creating is noticed in seconds, not at the 2-minute timeout.
	createHeartbeat bool
	// live: from versionLiveProgress on, Supervise signals its progress (SignalProgress).
	live bool
	// supervising is true only while Supervise runs: a progress signal handled after its
	// result (in the same workflow task) must not undo the final progress.
	supervising bool
	// current: from versionCurrent on, every change before it is on without asking.
	current bool
	// app: from versionControllerMode on, the SparkApplication a controller-mode run is for.
	app    *AppRef
	status Status
	result JobResult
}

// SparkJob runs one Spark application to its end. See JobResult for how it ends. carry is
// zero when a client starts the job; a run that continues as new hands it to the next.
func SparkJob(ctx workflow.Context, spec job.JobSpec, carry Carry) (JobResult, error) {
	if carry.Run < 1 {
		carry.Run = 1
	}
	j := &jobRun{
		spec:   spec,
		carry:  carry,
		wfID:   workflow.GetInfo(ctx).WorkflowExecution.ID,
		status: Status{State: StateRunning, Stage: StageValidating, Run: carry.Run},
		result: JobResult{State: StateRunning, Attempts: []AttemptResult{}, Dependencies: []activities.Dependency{}},
	}
	logger := workflow.GetLogger(ctx)
	j.current = workflow.GetVersion(ctx, versionCurrent, workflow.DefaultVersion, 1) >= 1
	j.version = 1
	if !j.current {
		j.version = workflow.GetVersion(ctx, versionRunIdentity, workflow.DefaultVersion, 1)
	}
	if j.version >= 1 {
		j.runID = workflow.GetInfo(ctx).WorkflowExecution.RunID
	}
	j.createHeartbeat = j.changed(ctx, versionCreateHeartbeat)
	if carry.App != nil && j.changed(ctx, versionControllerMode) {
		j.app = carry.App
	}
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (Status, error) { return j.status, nil }); err != nil {
		return JobResult{}, err
	}
	if j.changed(ctx, versionLiveProgress) {
		j.live = true
		workflow.Go(ctx, j.followProgress)
	}
	if !j.current || !startedWith(ctx, spec) {
		// A client that set them at start (StartSearchAttributes) saves an upsert: one event
		// and one visibility write per job.
		j.upsert(ctx,
			SearchAttrJobName.ValueSet(spec.Name),
			SearchAttrNamespace.ValueSet(spec.Namespace),
			SearchAttrState.ValueSet(StateRunning),
		)
	}
	if carry.Run == 1 && carry.AttemptsBefore == 0 {
		j.metrics(ctx).Counter(MetricJobCreated).Inc(1)
	}

	// Validate: a bad spec fails the workflow itself; nothing has been created.
	in := activities.ValidateInput{Spec: spec}
	if j.changed(ctx, versionLogicalDates) {
		in.Dates = datesInput(ctx, carry)
	}
	var v activities.ValidateOutput
	err := workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, validateOptions),
		a.Validate, in).Get(ctx, &v)
	if err != nil {
		if cancelled(ctx, err) {
			return j.finish(ctx, StateCancelled, "cancelled while validating")
		}
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) && appErr.Type() == activities.ErrInvalidSpec {
			j.status.State, j.status.Stage, j.status.LastReason = StateFailed, StageDone, appErr.Message()
			j.upsert(ctx, SearchAttrState.ValueSet(StateFailed))
			msg := appErr.Message()
			if j.version < 1 {
				msg = "invalid spec: " + msg
			}
			return JobResult{}, temporal.NewNonRetryableApplicationError(msg, activities.ErrInvalidSpec, nil)
		}
		return j.finish(ctx, StateFailed, "validate: "+message(err))
	}
	j.spec = v.Spec
	if v.Dates != nil {
		j.carry.Dates, j.result.Dates, j.status.Dates = v.Dates, v.Dates, v.Dates
		j.upsert(ctx, SearchAttrLogicalDate.ValueSet(v.Dates.LogicalDate))
	}

	// Dependencies: an unreachable or mismatching one fails the job before any pod exists.
	j.status.Stage = StageFetchingDeps
	j.show(ctx)
	var deps activities.FetchDependenciesOutput
	err = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, j.pick(fetchOptions, fetchOptionsHeartbeat)),
		a.FetchDependencies, activities.FetchDependenciesInput{Spec: j.spec}).Get(ctx, &deps)
	if err != nil {
		if cancelled(ctx, err) {
			return j.finish(ctx, StateCancelled, "cancelled while fetching dependencies")
		}
		return j.finish(ctx, StateFailed, "dependencies: "+message(err))
	}
	if deps.Dependencies != nil {
		j.result.Dependencies = deps.Dependencies
	}

	var (
		counts                       = restartCounts{runFailures: carry.RunFailures, submissionFailures: carry.SubmissionFailures}
		driverOverhead, execOverhead = carry.DriverOverheadMiB, carry.ExecutorOverheadMiB // 0: Spark's default
		firstDriverOH, firstExecOH   = carry.FirstDriverOverheadMiB, carry.FirstExecutorOverheadMiB
		last                         *attempt
		state, reason                string
		continueAsNew                bool
	)
	for n := 1; ; n++ {
		at := j.runAttempt(ctx, n, driverOverhead, execOverhead)
		last = at
		j.result.Attempts = append(j.result.Attempts, at.result)
		j.result.AppID = at.result.AppID
		j.status.LastReason = at.result.Reason
		if n == 1 && carry.AttemptsBefore == 0 {
			firstDriverOH, firstExecOH = at.rendered.DriverMemoryOverheadMiB, at.rendered.ExecutorMemoryOverheadMiB
		}
		if at.end == endCancelled {
			state, reason = StateCancelled, at.result.Reason
			break
		}

		switch at.end {
		case endRunFailed:
			counts.runFailures++
		case endSubmissionFailed:
			counts.submissionFailures++
		}
		again, wait := nextAttempt(j.spec.RestartPolicy, at.end, counts)
		if again && n >= MaxAttempts {
			// History must stay bounded: the job goes on in a new run of the same workflow.
			if j.changed(ctx, versionContinueAsNew) {
				continueAsNew = true
			} else {
				logger.Warn("attempt limit reached", "attempts", n)
				again = false
			}
		}
		if !again {
			state, reason = StateFailed, at.result.Reason
			if at.end == endSucceeded {
				state, reason = StateCompleted, ""
				j.result.Output = at.outcome.Output
			}
			break
		}

		// OOMKilled: the next attempt gets more overhead, within the bound.
		if at.outcome.Outcome == activities.OutcomeOOMKilled && at.rendered.DriverMemoryOverheadMiB > 0 {
			j.metrics(ctx).WithTags(map[string]string{MetricTagRole: "driver"}).Counter(MetricOOMRemediation).Inc(1)
			driverOverhead = raiseOverhead(at.rendered.DriverMemoryOverheadMiB, firstDriverOH)
			logger.Info("driver OOMKilled: raising memory overhead", "fromMiB", at.rendered.DriverMemoryOverheadMiB, "toMiB", driverOverhead)
		}
		if at.outcome.ExecutorOOMKills > 0 && at.rendered.ExecutorMemoryOverheadMiB > 0 {
			j.metrics(ctx).WithTags(map[string]string{MetricTagRole: "executor"}).Counter(MetricOOMRemediation).Inc(1)
			execOverhead = raiseOverhead(at.rendered.ExecutorMemoryOverheadMiB, firstExecOH)
			logger.Info("executors OOMKilled: raising memory overhead", "fromMiB", at.rendered.ExecutorMemoryOverheadMiB, "toMiB", execOverhead)
		}

		// The old attempt's objects go before the next attempt starts.
		if at.created {
			j.status.Stage = StageCleaningUp
			j.show(ctx)
			j.cleanup(ctx, at)
			at.created = false
		}
		if ctx.Err() != nil {
			state, reason = StateCancelled, "cancelled between attempts"
			break
		}
		if wait > 0 {
			j.status.Stage = StageWaitingRetry
			j.show(ctx)
			next := workflow.Now(ctx).Add(wait)
			j.status.NextAttemptAt = &next
			err := workflow.Sleep(ctx, wait)
			j.status.NextAttemptAt = nil
			if err != nil {
				state, reason = StateCancelled, "cancelled while waiting to retry"
				break
			}
		}
		if continueAsNew {
			logger.Info("continuing as new", "run", carry.Run+1, "attemptsSoFar", carry.AttemptsBefore+n)
			return JobResult{}, workflow.NewContinueAsNewError(ctx, WorkflowName, j.spec, Carry{
				Run:                      carry.Run + 1,
				AttemptsBefore:           carry.AttemptsBefore + n,
				RunFailures:              counts.runFailures,
				SubmissionFailures:       counts.submissionFailures,
				DriverOverheadMiB:        driverOverhead,
				ExecutorOverheadMiB:      execOverhead,
				FirstDriverOverheadMiB:   firstDriverOH,
				FirstExecutorOverheadMiB: firstExecOH,
				Dates:                    j.carry.Dates,
				Schedule:                 carry.Schedule,
				App:                      carry.App,
			})
		}
	}

	// The last attempt's objects: at once on cancel or without a TTL, else after the TTL by a
	// child workflow that outlives this one, so the result does not wait for it. A scheduled
	// run keeps them for its schedule's run history limit instead.
	limited := state != StateCancelled && j.carry.Schedule != nil &&
		j.changed(ctx, versionHistoryLimits)
	kept := false
	if last != nil && last.created && j.app != nil && state != StateCancelled && last.driverUID != "" {
		// The operator keeps a finished driver until its SparkApplication goes (its
		// timeToLiveSeconds deletes the object): tools read its logs and status from it. The
		// rest of the attempt is the driver's, so it goes with it; an attempt whose driver was
		// never made owns nothing that would, and is cleaned up now.
		last.created, limited = false, false
		j.status.LastReason = "objects kept until SparkApplication " + j.app.Name + " is deleted"
	}
	if last != nil && last.created {
		ttl, why := ttlFor(j.spec, state), "timeToLiveSeconds"
		if limited {
			ttl, why = j.historyKeep(state)
		}
		kept = state != StateCancelled && ttl > 0 && j.keep(ctx, last, ttl, why)
		if !kept {
			j.status.Stage = StageCleaningUp
			j.show(ctx)
			j.cleanup(ctx, last)
		}
	}
	if limited {
		j.prune(ctx, state, kept)
	}
	return j.finish(ctx, state, reason)
}

// datesInput is what the workflow knows of the run's dates; Validate resolves them.
func datesInput(ctx workflow.Context, carry Carry) activities.DatesInput {
	in := activities.DatesInput{Given: carry.Dates, LogicalDate: carry.LogicalDate, Started: workflow.GetInfo(ctx).WorkflowStartTime}
	if carry.Schedule != nil {
		in.Schedule, in.TimeZone = carry.Schedule.Cron, carry.Schedule.TimeZone
	}
	if t, ok := workflow.GetTypedSearchAttributes(ctx).GetTime(SearchAttrScheduledStart); ok && !t.IsZero() {
		in.Nominal = &t
	}
	return in
}

// endCancelled marks an attempt the workflow's cancellation ended.
const endCancelled attemptEnd = -1

// attempt is one attempt's record while the workflow runs.
type attempt struct {
	n         int
	rendered  render.Rendered
	outcome   activities.SuperviseOutput
	result    AttemptResult
	end       attemptEnd
	created   bool   // objects may exist: CreateResources was called
	driverUID string // the driver pod Create made or found, when it said
}

// runAttempt renders, creates and supervises one attempt; it never cleans up.
func (j *jobRun) runAttempt(ctx workflow.Context, n int, driverOverhead, execOverhead int64) *attempt {
	at := &attempt{n: n, result: AttemptResult{Attempt: n, StartedAt: workflow.Now(ctx)}}
	j.status = Status{State: StateRunning, Stage: StageRendering, Run: j.carry.Run, Attempt: j.carry.AttemptsBefore + n, LastReason: j.status.LastReason}
	j.show(ctx)
	done := func(end attemptEnd, reason string) *attempt {
		at.end = end
		at.result.Reason = reason
		at.result.EndedAt = workflow.Now(ctx)
		switch end {
		case endSucceeded:
			at.result.State = StateCompleted
		case endCancelled:
			at.result.State = StateCancelled
		default:
			at.result.State = StateFailed
		}
		return at
	}

	var r activities.RenderOutput
	err := workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, renderOptions), a.Render,
		activities.RenderInput{Spec: j.spec, Options: render.Options{
			WorkflowID:                j.wfID,
			RunID:                     j.runID,
			Attempt:                   n,
			DriverMemoryOverheadMiB:   driverOverhead,
			ExecutorMemoryOverheadMiB: execOverhead,
			App:                       j.renderApp(),
		}}).Get(ctx, &r)
	if err != nil {
		if cancelled(ctx, err) {
			return done(endCancelled, "cancelled while rendering")
		}
		return done(endNotRetryable, "render: "+message(err))
	}
	// What the attempt needs later: its names, namespace, selector and memory. The manifests
	// go once they are created: a worker follows a thousand cached runs.
	at.rendered = render.Rendered{Names: r.Rendered.Names, AppID: r.Rendered.AppID, Namespace: r.Rendered.Namespace,
		Selector: r.Rendered.Selector, DriverMemoryMiB: r.Rendered.DriverMemoryMiB, DriverMemoryOverheadMiB: r.Rendered.DriverMemoryOverheadMiB,
		ExecutorMemoryMiB: r.Rendered.ExecutorMemoryMiB, ExecutorMemoryOverheadMiB: r.Rendered.ExecutorMemoryOverheadMiB}
	at.result.AppID = r.Rendered.AppID
	at.result.DriverPod = r.Rendered.Names.DriverPod
	at.result.DriverMemoryOverheadMiB = r.Rendered.DriverMemoryOverheadMiB
	at.result.ExecutorMemoryOverheadMiB = r.Rendered.ExecutorMemoryOverheadMiB
	if r.Rendered.DriverMemoryMiB > 0 {
		at.result.DriverMemory = fmt.Sprintf("%dMi", r.Rendered.DriverMemoryMiB)
	}
	j.status.AppID, j.status.DriverPod = r.Rendered.AppID, r.Rendered.Names.DriverPod
	j.upsert(ctx, SearchAttrAppID.ValueSet(r.Rendered.AppID), SearchAttrAttempt.ValueSet(int64(j.carry.AttemptsBefore+n)))

	j.status.Stage = StageCreating
	j.show(ctx)
	at.created = true
	var c activities.CreateOutput
	copts := j.pick(createOptions, createOptionsAwaited)
	if j.createHeartbeat {
		copts = createOptionsHeartbeat
	}
	err = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, copts), a.CreateResources,
		activities.CreateInput{Rendered: r.Rendered}).Get(ctx, &c)
	r = activities.RenderOutput{} // the manifests are created (or never will be): drop them
	if err != nil {
		if cancelled(ctx, err) {
			return done(endCancelled, "cancelled while creating resources")
		}
		at.result.Outcome = activities.ErrSubmission
		j.metrics(ctx).Counter(MetricJobSubmissionFailed).Inc(1)
		return done(endSubmissionFailed, "submission failed: "+message(err))
	}
	j.metrics(ctx).WithTags(map[string]string{MetricTagAttempt: fmt.Sprint(j.carry.AttemptsBefore + n)}).
		Timer(MetricJobSubmitted).Record(workflow.Now(ctx).Sub(workflow.GetInfo(ctx).WorkflowStartTime))
	if c.DriverPod != "" {
		at.result.DriverPod, j.status.DriverPod = c.DriverPod, c.DriverPod
	}
	if j.result.TraceID == "" {
		j.result.TraceID = c.TraceID
	}
	at.driverUID = c.DriverUID

	// Heartbeats do not reach the workflow: while Supervise runs its progress signals
	// (versionLiveProgress) keep the status live; its result brings the final progress.
	j.status.Stage = StageSupervising
	j.show(ctx)
	var s activities.SuperviseOutput
	sopts := j.pick(superviseOptions, superviseOptionsUncapped)
	if j.current {
		sopts = superviseOptionsCurrent
	}
	j.supervising = true
	err = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, sopts), a.Supervise,
		activities.SuperviseInput{
			Namespace:        at.rendered.Namespace,
			AppID:            at.rendered.AppID,
			DriverPod:        at.result.DriverPod,
			DriverUID:        c.DriverUID,
			StartTimeout:     job.SettingDuration(&j.spec, job.ConfDriverStartTimeout, DriverStartTimeout),
			ImagePullTimeout: job.SettingDuration(&j.spec, job.ConfImagePullTimeout, ImagePullTimeout),
			MaxRunTime:       job.SettingDuration(&j.spec, job.ConfMaxRunTime, 0),
			SignalProgress:   j.live,
		}).Get(ctx, &s)
	j.supervising = false
	if err != nil {
		if cancelled(ctx, err) {
			return done(endCancelled, "cancelled while the driver ran")
		}
		return done(endRunFailed, "supervise: "+message(err))
	}
	at.outcome = s
	at.result.Outcome = s.Outcome
	at.result.ExitCode = s.ExitCode
	at.result.LogTail = s.LogTail
	p := s.Progress
	j.status.DriverPhase = p.DriverPhase
	j.status.ExecutorsRunning, j.status.ExecutorsPending, j.status.ExecutorsFailed = p.ExecutorsRunning, p.ExecutorsPending, p.ExecutorsFailed
	if s.Outcome == activities.OutcomeSucceeded {
		return done(endSucceeded, s.Reason)
	}
	reason := s.Reason
	if reason == "" {
		reason = s.Outcome
	}
	return done(endRunFailed, reason)
}

// followProgress applies the progress Supervise signals to the status while that attempt's
// driver is supervised; a signal that arrives after its attempt ended changes nothing.
func (j *jobRun) followProgress(ctx workflow.Context) {
	ch := workflow.GetSignalChannel(ctx, activities.SignalProgress)
	for {
		var p activities.LiveProgress
		if !ch.Receive(ctx, &p) {
			return
		}
		if !j.supervising || p.DriverPod != j.status.DriverPod {
			continue
		}
		j.status.DriverPhase = p.DriverPhase
		j.status.ExecutorsRunning, j.status.ExecutorsPending, j.status.ExecutorsFailed = p.ExecutorsRunning, p.ExecutorsPending, p.ExecutorsFailed
		if p.LastReason != "" {
			j.status.LastReason = p.LastReason
		}
		j.show(ctx)
	}
}

// renderApp is what Render needs of the run's SparkApplication, in controller mode.
func (j *jobRun) renderApp() *render.AppOwner {
	if j.app == nil {
		return nil
	}
	return &render.AppOwner{Name: j.app.Name, UID: j.app.UID, DriverPod: j.app.DriverPod}
}

// cleanupInput names everything one attempt created. From versionRunIdentity on that is the
// driver pod only by name and UID (a pod of that name Create did not make is not ours), and
// everything else by the selector Render returned.
func (j *jobRun) cleanupInput(at *attempt) activities.CleanupInput {
	ns := at.rendered.Namespace
	if ns == "" {
		ns = j.spec.Namespace
	}
	if j.version >= 1 {
		in := activities.CleanupInput{Namespace: ns, Selector: at.rendered.Selector}
		if at.driverUID != "" {
			in.DriverPod, in.DriverUID = at.result.DriverPod, at.driverUID
		}
		return in
	}
	return activities.CleanupInput{
		Namespace: ns,
		DriverPod: at.result.DriverPod,
		Selector:  fmt.Sprintf("%s=%s,%s=%d", job.LabelRun, job.RunLabel(j.wfID), job.LabelAttempt, at.n),
	}
}

// cleanup deletes an attempt's objects now, on a disconnected context so it also runs after
// the workflow was cancelled. A failure is logged: the job's state is the application's.
func (j *jobRun) cleanup(ctx workflow.Context, at *attempt) {
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(dctx, j.pick(cleanupOptions, cleanupOptionsHeartbeat)), a.Cleanup, j.cleanupInput(at)).Get(dctx, nil)
	if err != nil {
		workflow.GetLogger(ctx).Error("cleanup failed; objects may be left", "attempt", at.n, "error", err)
	}
}

// keep keeps the attempt's objects for ttl: from versionKeepByMark on by marking them, before
// it by CleanupAfter. False: they could not be kept; clean up now instead.
func (j *jobRun) keep(ctx workflow.Context, at *attempt, ttl time.Duration, why string) bool {
	if !j.changed(ctx, versionKeepByMark) {
		return j.cleanupLater(ctx, at, ttl, why)
	}
	if at.driverUID == "" {
		// No driver was made (the submission failed): nothing to read logs from, and the
		// worker finds marks through drivers. What Create left goes now.
		return false
	}
	c := j.cleanupInput(at)
	until := workflow.Now(ctx).Add(ttl).UTC()
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, keepOptions), a.KeepObjects,
		activities.KeepInput{Namespace: c.Namespace, Selector: c.Selector, Until: until}).Get(ctx, nil)
	if err != nil {
		workflow.GetLogger(ctx).Error("could not mark the objects to keep; cleaning up now", "error", err)
		return false
	}
	j.status.LastReason = fmt.Sprintf("objects kept for %s (%s), deleted after %s", ttl, why, until.Format(time.RFC3339))
	j.status.KeptUntil, j.result.KeptUntil = &until, &until
	return true
}

// cleanupLater starts CleanupAfter for the attempt and returns once the child has started, so
// the result does not wait for the TTL. False: it could not start; clean up now instead.
func (j *jobRun) cleanupLater(ctx workflow.Context, at *attempt, ttl time.Duration, why string) bool {
	opts := workflow.ChildWorkflowOptions{
		WorkflowID:        CleanupWorkflowID(workflow.GetInfo(ctx).WorkflowExecution.RunID),
		ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_ABANDON,
	}
	if j.version >= 1 {
		// In the UI's list this row is a timer, not a running job: say so.
		opts.StaticSummary = fmt.Sprintf("keeps %s's objects for %s (%s), then deletes them", j.wfID, ttl, why)
	}
	cctx := workflow.WithChildOptions(ctx, opts)
	child := workflow.ExecuteChildWorkflow(cctx, CleanupAfterWorkflowName, CleanupAfterInput{Delay: ttl, Cleanup: j.cleanupInput(at)})
	var we workflow.Execution
	if err := child.GetChildWorkflowExecution().Get(ctx, &we); err != nil {
		workflow.GetLogger(ctx).Error("could not start delayed cleanup; cleaning up now", "error", err)
		return false
	}
	j.status.LastReason = fmt.Sprintf("objects kept for %s, then deleted by %s", ttl, we.ID)
	return true
}

// historyKeep is how long a scheduled run's objects stay: none when its schedule keeps no run
// of its outcome, else its timeToLiveSeconds or ScheduledRunKeep, whichever the spec says;
// a newer run of the same outcome releases them sooner (prune).
func (j *jobRun) historyKeep(state string) (time.Duration, string) {
	limit := "successfulRunHistoryLimit"
	if state != StateCompleted {
		limit = "failedRunHistoryLimit"
	}
	if j.carry.Schedule.historyLimit(state) == 0 {
		return 0, limit
	}
	if t := j.spec.TimeToLiveSeconds; t != nil {
		return ttlFor(j.spec, state), "timeToLiveSeconds, " + limit
	}
	return ScheduledRunKeep, limit
}

// prune releases the objects of the schedule's older runs of this outcome beyond its limit.
// A failure to prune is logged: it costs a driver pod kept longer, never the job.
func (j *jobRun) prune(ctx workflow.Context, state string, kept bool) {
	keep := j.carry.Schedule.historyLimit(state)
	if kept {
		keep-- // this run is one of them
	}
	status := enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED
	if state != StateCompleted {
		status = enumspb.WORKFLOW_EXECUTION_STATUS_FAILED
	}
	in := activities.PruneInput{ScheduleID: j.carry.Schedule.ID, Status: status, Keep: max(keep, 0),
		ExceptRunID: workflow.GetInfo(ctx).WorkflowExecution.RunID}
	if j.version >= 1 {
		// Older runs may keep their objects by a mark, found by their run's label here.
		in.Namespace = j.spec.Namespace
	}
	var out activities.PruneOutput
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, pruneOptions), a.PruneRuns, in).Get(ctx, &out); err != nil {
		workflow.GetLogger(ctx).Warn("run history limit not applied", "error", err)
	}
}

// finish records the job's end and returns what SparkJob returns.
func (j *jobRun) finish(ctx workflow.Context, state, reason string) (JobResult, error) {
	j.result.State, j.result.Reason = state, reason
	j.metrics(ctx).WithTags(map[string]string{MetricTagState: state}).Timer(MetricJobEnded).Record(j.lastRunTime(ctx))
	j.status.State, j.status.Stage = state, StageDone
	j.show(ctx)
	if reason != "" {
		j.status.LastReason = reason
	}
	j.upsert(ctx, SearchAttrState.ValueSet(state))
	if state == StateCancelled {
		return JobResult{}, temporal.NewCanceledError(j.result)
	}
	if state == StateFailed && j.version >= 1 {
		// Failed where people look: the UI, ExecutionStatus="Failed", a parent, a schedule.
		msg := reason
		if msg == "" {
			msg = "the Spark application failed"
		}
		return JobResult{}, temporal.NewNonRetryableApplicationError(msg, ErrJobFailed, nil, j.result)
	}
	return j.result, nil
}

// show puts the job's live state where the Temporal UI shows a run's current details. It
// records nothing in history; executor counts come from Supervise's progress signals (and,
// for runs recorded before them, from its heartbeat, which the UI shows under the pending
// activity).
func (j *jobRun) show(ctx workflow.Context) {
	st := j.status
	var b strings.Builder
	b.WriteString(fmt.Sprintf("**%s** · %s", st.State, st.Stage))
	if st.Attempt > 0 {
		b.WriteString(fmt.Sprintf(" · attempt %d", st.Attempt))
		if st.Run > 1 {
			b.WriteString(fmt.Sprintf(" (run %d)", st.Run))
		}
	}
	if st.Dates != nil {
		b.WriteString(fmt.Sprintf(" · logical date %s", st.Dates.Values()["logical_date"]))
	}
	if st.DriverPod != "" {
		b.WriteString(fmt.Sprintf("\n\ndriver `%s`", st.DriverPod))
		if st.DriverPhase != "" {
			b.WriteString(fmt.Sprintf(" %s, executors %d running, %d pending, %d failed", st.DriverPhase, st.ExecutorsRunning, st.ExecutorsPending, st.ExecutorsFailed))
		}
	}
	if st.AppID != "" {
		b.WriteString(fmt.Sprintf(" · app `%s`", st.AppID))
	}
	if st.LastReason != "" {
		b.WriteString(fmt.Sprintf("\n\n%s", st.LastReason))
	}
	if st.KeptUntil != nil {
		b.WriteString(fmt.Sprintf("\n\nobjects kept until %s", st.KeptUntil.Format(time.RFC3339)))
	}
	workflow.SetCurrentDetails(ctx, b.String())
}

// startedWith tells whether the run was started with StartSearchAttributes(spec).
func startedWith(ctx workflow.Context, spec job.JobSpec) bool {
	sa := workflow.GetTypedSearchAttributes(ctx)
	name, _ := sa.GetKeyword(SearchAttrJobName)
	ns, _ := sa.GetKeyword(SearchAttrNamespace)
	state, _ := sa.GetKeyword(SearchAttrState)
	return name == spec.Name && ns == spec.Namespace && state == StateRunning
}

// changed tells whether this run has the change: every run from versionCurrent on has it;
// a run recorded before asks GetVersion, as it did when it was recorded.
func (j *jobRun) changed(ctx workflow.Context, change string) bool {
	return j.current || workflow.GetVersion(ctx, change, workflow.DefaultVersion, 1) >= 1
}

// pick is old for runs recorded before versionRunIdentity, else current.
func (j *jobRun) pick(old, current workflow.ActivityOptions) workflow.ActivityOptions {
	if j.version >= 1 {
		return current
	}
	return old
}

// upsert sets search attributes. The call only records a command and fails only on a
// malformed update: an attribute the namespace has not registered is refused by the server
// when the workflow task completes, and that task is retried until it is registered.
func (j *jobRun) upsert(ctx workflow.Context, updates ...temporal.SearchAttributeUpdate) {
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		workflow.GetLogger(ctx).Warn("upsert search attributes", "error", err)
	}
}

// cancelled tells whether err came from the workflow's own cancellation.
func cancelled(ctx workflow.Context, err error) bool {
	return ctx.Err() != nil && temporal.IsCanceledError(err)
}

// message is an error's innermost message, for a person: the activity wrapper adds only noise.
func message(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	var timeoutErr *temporal.TimeoutError
	if errors.As(err, &timeoutErr) {
		return timeoutErr.Error()
	}
	return err.Error()
}
