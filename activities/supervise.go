package activities

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	corev1 "k8s.io/api/core/v1"

	"github.com/kindling-dev/kindling/internal/metrics"
	"github.com/kindling-dev/kindling/k8s/cluster"
	"github.com/kindling-dev/kindling/k8s/job"
)

// recordHeartbeat is activity.RecordHeartbeat; the SDK throttles what reaches the server, so
// the tests count the loop's own calls here.
var recordHeartbeat = activity.RecordHeartbeat

// Supervision's clocks; variables only so the tests of the loop run in seconds.
var (
	// How often a supervisor looks even when no pod event woke it: timers (image pull,
	// start timeout) fire on the clock, and a heartbeat must go out well within the
	// activity's heartbeat timeout.
	superviseTick = 5 * time.Second
	// A heartbeat goes out when the progress changes, and at least this often, or every half
	// heartbeat timeout if that is sooner: with the 2-minute timeout of current runs a thousand
	// idle jobs cost under 17 RPC/s (one every tick would be 200).
	heartbeatFloor = 60 * time.Second
	// A driver missing from the cache is confirmed with a fresh read only after this
	// long, so a watch that lags behind the create does not end a live job.
	missingGrace = 10 * time.Second
	// A Pending driver's ConfigMaps and Secrets are checked after this long.
	missingConfigAfter = 15 * time.Second
	// A change a person would see is signalled to the workflow at most this often, or every
	// hundredth of the attempt's age if that is longer: a few history events per attempt, not
	// one per pod, and a days-long attempt whose executors come and go stays far from
	// Temporal's history limit (about 600 signals in its first day, 100 more a tenfold).
	progressEvery = 5 * time.Second
)

// Supervise follows one attempt's driver and executors through the worker's shared pod
// informer until the attempt ends, and says why it ended in words a person understands.
// It heartbeats its compact progress and, after a worker restart, resumes from it.
func (a *Activities) Supervise(ctx context.Context, in SuperviseInput) (out SuperviseOutput, err error) {
	defer a.stage("supervise", time.Now(), &err)
	m := a.watchMetrics(in)
	defer func() { m.end(out, err) }()
	if in.StartTimeout <= 0 {
		in.StartTimeout = job.DefaultDriverStartTimeout
	}
	if in.ImagePullTimeout <= 0 {
		in.ImagePullTimeout = job.DefaultImagePullTimeout
	}
	var prog SuperviseProgress
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &prog)
		m.resumed = true // its driver's start was counted by the Supervise before
	}
	wake, stop := a.Pods.Subscribe(in.Namespace, in.AppID)
	defer stop()
	tick := time.NewTicker(superviseTick)
	defer tick.Stop()

	var missingSince time.Time
	var lastConfigCheck time.Time
	var lastBeat time.Time
	var lastSent SuperviseProgress
	floor := heartbeatFloor
	if t := activity.GetInfo(ctx).HeartbeatTimeout; t > 0 {
		floor = min(floor, t/2)
	}
	var lastLive LiveProgress
	var lastSignal time.Time
	signalling := in.SignalProgress
	began := time.Now()
	// The first signal waits as long as the next would: a job that ends within seconds costs
	// no signal (its result says how it ended), one that runs shows its progress in seconds.
	lastSignal = began
	lim := cluster.Limits{StartTimeout: in.StartTimeout, ImagePullTimeout: in.ImagePullTimeout, MaxRunTime: in.MaxRunTime}
	for {
		now := time.Now()
		driver := a.Pods.Pod(in.Namespace, in.DriverPod)
		if driver != nil && in.DriverUID != "" && string(driver.UID) != in.DriverUID {
			driver = nil // a pod of the same name, not ours
		}
		if driver == nil {
			if missingSince.IsZero() {
				missingSince = now
			}
			if now.Sub(missingSince) >= missingGrace {
				actx, cancel := context.WithTimeout(ctx, apiTimeout)
				gone, err := cluster.DriverGone(actx, a.Cluster.Kube, in.Namespace, in.DriverPod, in.DriverUID)
				cancel()
				if err != nil {
					logger(ctx).Warn("confirm driver pod", "pod", in.DriverPod, "error", err)
				} else if gone {
					prog.LastReason = "driver pod " + in.DriverPod + " was deleted"
					if prog.DriverNode != "" {
						prog.LastReason += " (it ran on node " + prog.DriverNode + ")"
					}
					return SuperviseOutput{Outcome: OutcomeDriverDeleted, Reason: prog.LastReason, Progress: prog}, nil
				}
			}
		} else {
			missingSince = time.Time{}
			execs := a.Pods.Executors(in.Namespace, in.AppID)
			for uid, oom := range a.Pods.LostExecutors(in.Namespace, in.AppID) {
				prog.RememberLost(uid, oom)
			}
			out, done := cluster.Classify(driver, execs, now, &prog, lim)
			m.see(driver, prog, now)
			if done {
				logger(ctx).Info("attempt ended", "driverPod", in.DriverPod, "outcome", out.Outcome, "reason", out.Reason)
				if out.Outcome != OutcomeSucceeded && a.Cluster.Kube != nil {
					lctx, cancel := context.WithTimeout(ctx, apiTimeout)
					out.LogTail = cluster.LogTail(lctx, a.Cluster.Kube, in.Namespace, in.DriverPod, job.DriverContainerName)
					cancel()
				}
				return out, nil
			}
			if driver.Status.Phase == corev1.PodPending && !prog.PendingSince.IsZero() &&
				now.Sub(prog.PendingSince) >= missingConfigAfter && now.Sub(lastConfigCheck) >= missingConfigAfter {
				lastConfigCheck = now
				actx, cancel := context.WithTimeout(ctx, apiTimeout)
				missing := cluster.MissingConfig(actx, a.Cluster.Kube, driver)
				cancel()
				if missing != "" {
					prog.LastReason = missing
					return SuperviseOutput{Outcome: OutcomeMissingConfig, Reason: missing, Progress: prog}, nil
				}
			}
		}
		if !reflect.DeepEqual(prog, lastSent) || now.Sub(lastBeat) >= floor {
			recordHeartbeat(ctx, prog)
			a.Metrics.Heartbeat()
			lastBeat, lastSent = now, clone(prog)
		}
		if live := liveProgress(in.DriverPod, prog); signalling && live != lastLive && now.Sub(lastSignal) >= max(progressEvery, now.Sub(began)/100) {
			lastSignal = now // a failure waits as long as a success
			switch err := a.signalProgress(ctx, live); {
			case err == nil:
				lastLive = live
			case isNotFound(err):
				signalling = false // the run is closed or gone: no one reads them
			default:
				logger(ctx).Warn("signal progress; trying again later", "error", err)
			}
		}
		select {
		case <-ctx.Done():
			return SuperviseOutput{Progress: prog}, ctx.Err()
		case <-wake:
		case <-tick.C:
		}
	}
}

// liveProgress is the part of prog a person watching the job sees.
func liveProgress(driverPod string, prog SuperviseProgress) LiveProgress {
	return LiveProgress{DriverPod: driverPod, DriverPhase: prog.DriverPhase, ExecutorsRunning: prog.ExecutorsRunning,
		ExecutorsPending: prog.ExecutorsPending, ExecutorsFailed: prog.ExecutorsFailed, LastReason: prog.LastReason}
}

// signalProgress tells the workflow what its attempt looks like now. A failure costs only
// liveness: the attempt's result carries the final progress.
func (a *Activities) signalProgress(ctx context.Context, live LiveProgress) error {
	if a.Temporal == nil {
		return errors.New("this worker has no Temporal client")
	}
	info := activity.GetInfo(ctx)
	sctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	return a.Temporal.SignalWorkflow(sctx, info.WorkflowExecution.ID, info.WorkflowExecution.RunID, SignalProgress, live)
}

func isNotFound(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}

// superviseMetrics turns what one Supervise sees into the operator's metrics: the running
// gauges move while it runs (per worker: Prometheus sums the workers), and each executor
// lost during it counts once.
type superviseMetrics struct {
	a           *Activities
	app         metrics.App
	labelled    bool // app's labels are read once: the gauges go down under the labels they went up
	running     bool
	resumed     bool
	executors   int
	lostCounted int
}

func (a *Activities) watchMetrics(in SuperviseInput) *superviseMetrics {
	a.supervising(1)
	return &superviseMetrics{a: a, app: metrics.App{Namespace: in.Namespace}, lostCounted: -1}
}

// supervising moves the count of running Supervise activities and its gauge together.
func (a *Activities) supervising(delta int) {
	a.supervisedMu.Lock()
	defer a.supervisedMu.Unlock()
	a.supervised += delta
	a.Metrics.SetSupervisedJobs(a.supervised)
}

// see updates the gauges from the driver and the attempt's progress.
func (m *superviseMetrics) see(driver *corev1.Pod, prog SuperviseProgress, now time.Time) {
	met := m.a.Metrics
	if met == nil {
		return
	}
	if !m.labelled {
		m.app.Labels, m.labelled = driver.Labels, true // the operator copies the app's labels onto its pods
	}
	if m.lostCounted < 0 {
		m.lostCounted = len(prog.FailedExecutors) // lost before a worker restart were counted then
	}
	if !m.running && driver.Status.Phase == corev1.PodRunning {
		m.running = true
		met.Running(m.app, 1)
		if !m.resumed {
			// From the driver pod's creation: Kindling's submit latency is measured by its workflow.
			met.Started(m.app, driver.Labels[job.LabelAttempt] == "1", now.Sub(driver.CreationTimestamp.Time))
		}
	}
	if d := prog.ExecutorsRunning - m.executors; d != 0 {
		met.ExecutorRunning(m.app, d)
		m.executors = prog.ExecutorsRunning
	}
	for ; m.lostCounted < len(prog.FailedExecutors); m.lostCounted++ {
		met.ExecutorFailed(m.app)
	}
}

// end takes this Supervise's part out of the gauges, and counts the attempt's outcome.
func (m *superviseMetrics) end(out SuperviseOutput, err error) {
	met := m.a.Metrics
	m.a.supervising(-1)
	if m.running {
		met.Running(m.app, -1)
	}
	if m.executors > 0 {
		met.ExecutorRunning(m.app, -m.executors)
	}
	if err == nil {
		met.Attempt(out.Outcome)
	}
}

// clone copies progress, its sets included, so a later change is seen as one.
func clone(p SuperviseProgress) SuperviseProgress {
	p.FailedExecutors = slices.Clone(p.FailedExecutors)
	p.OOMKilledExecutors = slices.Clone(p.OOMKilledExecutors)
	return p
}
