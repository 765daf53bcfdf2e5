// Package emulator plays the Spark driver on a cluster where no container runs (kwok): it
// watches driver pods and, when one runs, creates its executors as Spark's
// ExecutorPodsAllocator would, then ends the driver as its annotations ask. It is test
// equipment for the local stack; the product never knows it exists.
package emulator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// Config tunes an Emulator; the zero value watches every namespace.
type Config struct {
	// Namespace limits the watch to one namespace; "" watches all.
	Namespace string
	// IgnoreNamespaces skips drivers in namespaces whose labels match; nil skips none. The
	// stack's emulator ignores namespaces labelled kindling.dev/emulator=test, where a test
	// runs its own emulator in-process.
	IgnoreNamespaces labels.Selector
	// ImagePullBackOffAfter is how long a driver shows ErrImagePull before ImagePullBackOff.
	ImagePullBackOffAfter time.Duration
	// Resync is how often the informer replays every pod, so a missed step is retried.
	Resync time.Duration
	Logger *slog.Logger
	// Logs, when set, gets what emulated drivers print (kwok serves it as their log).
	Logs *PodLogs
}

// Emulator drives every Spark driver pod it sees. Create it with New and start it with Run.
type Emulator struct {
	client kubernetes.Interface
	cfg    Config
	log    *slog.Logger
	pods   cache.SharedIndexInformer

	mu      sync.Mutex
	drivers map[types.UID]*driverState
	wg      sync.WaitGroup
	runCtx  context.Context

	progressMu sync.Mutex
	progress   map[types.UID]context.CancelFunc // drivers printing progress lines
}

// driverState is one driver pod being handled; it stays until the pod is deleted so the
// driver is handled once.
type driverState struct {
	key    string // namespace/name
	cancel context.CancelFunc
	notify chan struct{} // a pod event for the driver or one of its executors
}

const ownerIndex = "controller-uid"

// New returns an emulator that talks to the cluster through client.
func New(client kubernetes.Interface, cfg Config) *Emulator {
	if cfg.ImagePullBackOffAfter <= 0 {
		cfg.ImagePullBackOffAfter = 2 * time.Second
	}
	if cfg.Resync <= 0 {
		cfg.Resync = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Emulator{client: client, cfg: cfg, log: cfg.Logger, drivers: map[types.UID]*driverState{}}
}

// Run watches Spark pods until ctx ends, then waits for in-flight work to stop.
func (e *Emulator) Run(ctx context.Context) error {
	e.runCtx = ctx
	opts := []informers.SharedInformerOption{
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.LabelSelector = LabelRole + " in (" + RoleDriver + "," + RoleExecutor + ")"
		}),
	}
	if e.cfg.Namespace != "" {
		opts = append(opts, informers.WithNamespace(e.cfg.Namespace))
	}
	factory := informers.NewSharedInformerFactoryWithOptions(e.client, e.cfg.Resync, opts...)
	e.pods = factory.Core().V1().Pods().Informer()
	if err := e.pods.AddIndexers(cache.Indexers{ownerIndex: indexByController}); err != nil {
		return fmt.Errorf("add owner index to pod informer: %w", err)
	}
	if _, err := e.pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    e.onPod,
		UpdateFunc: func(_, obj any) { e.onPod(obj) },
		DeleteFunc: e.onDelete,
	}); err != nil {
		return fmt.Errorf("add pod event handler: %w", err)
	}
	e.log.Info("emulator starting", "namespace", e.cfg.Namespace, "ignoreNamespaces", fmt.Sprint(e.cfg.IgnoreNamespaces))
	if err := e.runNotebooks(ctx); err != nil {
		return fmt.Errorf("notebooks: %w", err)
	}
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), e.pods.HasSynced) {
		factory.Shutdown()
		e.wg.Wait()
		if ctx.Err() != nil {
			return nil
		}
		return errors.New("sync pod informer: cache never synced")
	}
	e.log.Info("emulator watching pods")
	<-ctx.Done()
	e.log.Info("emulator stopping")
	factory.Shutdown()
	e.wg.Wait()
	return nil
}

// runsConnectServer: the driver's main class is Spark Connect's server.
func runsConnectServer(pod *corev1.Pod) bool {
	for _, c := range pod.Spec.Containers {
		if slices.Contains(c.Args, "org.apache.spark.sql.connect.service.SparkConnectServer") {
			return true
		}
	}
	return false
}

func indexByController(obj any) ([]string, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return nil, nil
	}
	if ref := metav1.GetControllerOf(pod); ref != nil {
		return []string{string(ref.UID)}, nil
	}
	return nil, nil
}

func (e *Emulator) onPod(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if pod.Labels[LabelRole] != RoleDriver {
		if ref := metav1.GetControllerOf(pod); ref != nil {
			e.poke(ref.UID)
		}
		return
	}
	if pod.DeletionTimestamp != nil {
		e.stop(pod.UID)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if st, ok := e.drivers[pod.UID]; ok {
		select {
		case st.notify <- struct{}{}:
		default:
		}
		return
	}
	// A driver that ended before we saw it needs nothing, unless we drove it and stopped
	// before its executors were cleaned up.
	if isTerminal(pod) && pod.Annotations[AnnotationStartedAt] == "" {
		return
	}
	ctx, cancel := context.WithCancel(e.runCtx)
	st := &driverState{key: pod.Namespace + "/" + pod.Name, cancel: cancel, notify: make(chan struct{}, 1)}
	e.drivers[pod.UID] = st
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		e.drive(ctx, st, pod.UID)
	}()
}

func (e *Emulator) onDelete(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if pod.Labels[LabelRole] == RoleDriver {
		e.stop(pod.UID)
		e.mu.Lock()
		delete(e.drivers, pod.UID)
		e.mu.Unlock()
		e.cfg.Logs.forget(pod.UID)
	} else if ref := metav1.GetControllerOf(pod); ref != nil {
		e.poke(ref.UID)
	}
}

// stop cancels the work on a driver that is going away; its executors go with it through
// their ownerReferences.
func (e *Emulator) stop(uid types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if st, ok := e.drivers[uid]; ok {
		st.cancel()
	}
}

func (e *Emulator) poke(uid types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if st, ok := e.drivers[uid]; ok {
		select {
		case st.notify <- struct{}{}:
		default:
		}
	}
}

// driver returns the cached driver pod, or nil when it is gone or replaced.
func (e *Emulator) driver(st *driverState, uid types.UID) *corev1.Pod {
	obj, ok, err := e.pods.GetIndexer().GetByKey(st.key)
	if err != nil || !ok {
		return nil
	}
	pod := obj.(*corev1.Pod)
	if pod.UID != uid {
		return nil
	}
	return pod
}

// executors returns the cached executors controlled by the driver, by executor id.
func (e *Emulator) executors(uid types.UID) map[int]*corev1.Pod {
	objs, _ := e.pods.GetIndexer().ByIndex(ownerIndex, string(uid))
	out := map[int]*corev1.Pod{}
	for _, obj := range objs {
		pod := obj.(*corev1.Pod)
		if pod.Labels[LabelRole] != RoleExecutor {
			continue
		}
		if id, err := strconv.Atoi(pod.Labels[LabelExecID]); err == nil {
			out[id] = pod
		}
	}
	return out
}

// wait blocks until an event for the driver, a fallback tick, or ctx's end.
func (st *driverState) wait(ctx context.Context) bool {
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-st.notify:
	case <-t.C:
	}
	return true
}

// drive handles one driver pod from first sight to its end.
func (e *Emulator) drive(ctx context.Context, st *driverState, uid types.UID) {
	log := e.log.With("driver", st.key)
	pod := e.driver(st, uid)
	if pod == nil {
		return
	}
	ignored, err := e.ignored(ctx, pod.Namespace)
	if err != nil {
		if ctx.Err() == nil {
			log.Error("skip driver: cannot read its namespace", "err", err)
		}
		return
	}
	if ignored {
		log.Debug("skip driver: its namespace is ignored")
		return
	}
	if isTerminal(pod) {
		e.finishExecutors(ctx, log, pod)
		return
	}

	outcome, outcomeErr := ParseOutcome(pod.Annotations)
	if outcomeErr == nil && outcome.ImagePullError {
		e.failImagePull(ctx, log, st, uid)
		return
	}
	// Wait for kwok to run the pod: ending a pod kwok is still starting would race its
	// status writes.
	for pod.Status.Phase != corev1.PodRunning {
		if isTerminal(pod) || !st.wait(ctx) {
			return
		}
		if pod = e.driver(st, uid); pod == nil || pod.DeletionTimestamp != nil {
			return
		}
	}
	if name := pod.Annotations[AnnotationOutcomeFrom]; name != "" && outcomeErr == nil {
		cm, err := e.client.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			outcomeErr = &OutcomeError{AnnotationOutcomeFrom, name, "a ConfigMap in the driver's namespace: " + err.Error()}
		} else {
			outcome, outcomeErr = ParseOutcome(withOutcomeFrom(pod.Annotations, cm.Data))
		}
	}
	// A Spark Connect server serves until it is stopped, unless a test says otherwise.
	if _, set := pod.Annotations[AnnotationDuration]; !set && runsConnectServer(pod) {
		outcome.Duration = 100 * 365 * 24 * time.Hour
	}
	if outcomeErr != nil {
		log.Error("bad emulator annotation; failing the driver", "err", outcomeErr)
		e.end(ctx, log, pod, terminationFor(1, "kindling emulator: "+outcomeErr.Error()))
		return
	}
	e.run(ctx, log, st, pod, outcome)
}

func (e *Emulator) ignored(ctx context.Context, namespace string) (bool, error) {
	if e.cfg.IgnoreNamespaces == nil || e.cfg.IgnoreNamespaces.Empty() {
		return false, nil
	}
	ns, err := e.client.CoreV1().Namespaces().Get(ctx, namespace, metav1.GetOptions{})
	if err != nil {
		return false, fmt.Errorf("get namespace %s: %w", namespace, err)
	}
	return e.cfg.IgnoreNamespaces.Matches(labels.Set(ns.Labels)), nil
}

// run plays a running driver: executors, then the end its annotations ask for.
func (e *Emulator) run(ctx context.Context, log *slog.Logger, st *driverState, pod *corev1.Pod, outcome Outcome) {
	startedAt, err := e.startedAt(ctx, pod)
	if err != nil {
		log.Error("record start of driver", "err", err)
		return
	}
	log = log.With("startedAt", startedAt.Format(time.RFC3339Nano))

	if outcome.OOMBelow != nil {
		if c := driverContainer(pod); c != nil {
			if limit, ok := c.Resources.Limits[corev1.ResourceMemory]; ok && limit.Cmp(*outcome.OOMBelow) < 0 {
				log.Info("driver memory limit below oom-below: OOMKilled soon", "limit", limit.String(), "oomBelow", outcome.OOMBelow.String())
				if sleepUntil(ctx, startedAt.Add(oomDelay)) {
					e.end(ctx, log, pod, oomKilled)
				}
				return
			}
		}
	}

	conf, err := ReadDriverConf(ctx, e.client, pod)
	if err == nil {
		var plan *ExecutorPlan
		if plan, err = PlanExecutors(pod, conf); err == nil {
			if outcome.ExecutorFailures > plan.Instances {
				err = &OutcomeError{AnnotationExecutorFailures, strconv.Itoa(outcome.ExecutorFailures),
					fmt.Sprintf("at most spark.executor.instances (%d)", plan.Instances)}
			} else {
				end := startedAt.Add(outcome.Duration)
				e.printProgress(ctx, log, pod, end)
				log.Info("driver running", "executors", plan.Instances, "batchSize", plan.BatchSize, "end", end.Format(time.RFC3339Nano),
					"maxExecutorFailures", maxFailuresForLog(plan.FailureLimit))
				faults := executorFaults{firstN: outcome.ExecutorFailures, with: terminationFor(1, "")}
				lost := false
				if below := outcome.ExecutorOOMBelow; below != nil && plan.Instances > 0 {
					if limit, ok := executorMemoryLimit(plan); ok && limit.Cmp(*below) < 0 {
						log.Info("executor memory limit below executor-oom-below: executors are OOMKilled", "limit", limit.String(), "oomBelow", below.String())
						faults, lost = executorFaults{all: true, with: oomKilled, deleteThem: true}, true
					}
				}
				gaveUp := e.allocate(ctx, log, st, pod, plan, faults, end)
				if ctx.Err() != nil {
					return
				}
				// Spark's driver gives up at once (sys.exit), before its app would have ended.
				t := terminationFor(ExitMaxExecutorFailures, plan.FailureLimit.Message())
				if !gaveUp {
					if !sleepUntil(ctx, end) {
						return
					}
					t = terminationFor(outcome.ExitCode, outcome.TerminationMessage)
					if lost {
						t = terminationFor(1, "every executor was lost (OOMKilled)")
					}
				}
				t.SidecarsKeepRunning = outcome.SidecarsKeepRunning
				e.end(ctx, log, pod, t)
				return
			}
		}
	}
	// A JVM whose configuration cannot be read exits at start with an error.
	log.Error("driver cannot start", "err", err)
	e.end(ctx, log, pod, terminationFor(1, "kindling emulator: "+err.Error()))
}

// startedAt returns when the emulator first saw the driver running, recording it on the pod
// the first time so a restarted emulator keeps the schedule.
func (e *Emulator) startedAt(ctx context.Context, pod *corev1.Pod) (time.Time, error) {
	if v := pod.Annotations[AnnotationStartedAt]; v != "" {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return t, nil
		}
	}
	now := time.Now()
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, AnnotationStartedAt, now.Format(time.RFC3339Nano))
	if _, err := e.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		return time.Time{}, fmt.Errorf("annotate driver %s/%s with %s: %w", pod.Namespace, pod.Name, AnnotationStartedAt, err)
	}
	return now, nil
}

// executorFaults are the executors the outcome fails once they run: executors 1..firstN
// (executor-failures), or all of them (executor-oom-below), ending as with; deleteThem
// deletes each at once, as Spark deletes a lost executor.
type executorFaults struct {
	firstN     int
	all        bool
	with       Termination
	deleteThem bool
}

func (f executorFaults) fails(id int) bool { return f.all || id <= f.firstN }

// allocate keeps plan.Instances executors as Spark's ExecutorPodsAllocator does
// (onNewSnapshots, requestNewExecutors): executors running or pending count towards the
// target; failed, succeeded and deleted ones do not, so they are replaced, each new executor
// taking the next id after the largest ever used (EXECUTOR_ID_COUNTER.incrementAndGet). A
// batch is at most spark.kubernetes.allocation.batch.size executors; the next comes once
// none of the previous is pending. (Spark only waits for the previous batch to show up in
// its pod snapshots; waiting for pending keeps kwok's batches apart.) The executors the
// faults name fail once running. Every executor seen Failed counts as a failure, once, as
// Spark's ExecutorFailureTracker counts them; past plan.FailureLimit allocate returns true,
// and the driver must exit as Spark's does. Otherwise it returns false at end, or when ctx
// ends.
func (e *Emulator) allocate(ctx context.Context, log *slog.Logger, st *driverState, driver *corev1.Pod, plan *ExecutorPlan, faults executorFaults, end time.Time) bool {
	deadline, cancel := context.WithDeadline(ctx, end)
	defer cancel()
	requested := map[int]bool{} // created but not yet in the cache
	failedAt := map[int]time.Time{}
	// After a restart of the emulator, the executors it made before.
	lastID := e.largestExecutorID(deadline, log, driver)
	for {
		execs := e.executors(driver.UID)
		ids := slices.Sorted(maps.Keys(execs))
		running, pending := 0, 0
		for _, id := range ids {
			pod := execs[id]
			lastID = max(lastID, id)
			delete(requested, id)
			if _, counted := failedAt[id]; counted {
				continue
			}
			phase := pod.Status.Phase
			switch {
			case phase == corev1.PodFailed:
				failedAt[id] = time.Now()
				log.Info("executor failed", "executor", pod.Name, "failures", len(failedAt))
			case phase == corev1.PodSucceeded:
			case pod.DeletionTimestamp != nil && phase != corev1.PodRunning:
			case phase == corev1.PodRunning:
				if pod.DeletionTimestamp == nil && faults.fails(id) && e.failExecutor(deadline, log, pod, faults) {
					failedAt[id] = time.Now()
					log.Info("executor failed as asked", "executor", pod.Name, "reason", faults.with.Reason, "failures", len(failedAt))
					continue
				}
				running++
			default:
				pending++
			}
		}
		pending += len(requested)
		if plan.FailureLimit.Exceeded(slices.Collect(maps.Values(failedAt)), time.Now()) {
			log.Error(plan.FailureLimit.Message(), "failures", len(failedAt))
			return true
		}
		if pending == 0 && running < plan.Instances {
			n := min(plan.Instances-running, plan.BatchSize)
			var batch []int
			created := 0
			for range n {
				lastID++
				batch = append(batch, lastID)
				if err := e.createExecutor(deadline, plan, lastID); err != nil {
					log.Error("create executor", "err", err)
					break
				}
				requested[lastID] = true
				created++
			}
			log.Info("executor batch requested", "ids", fmt.Sprint(batch), "created", created, "running", running, "target", plan.Instances)
			if created > 0 {
				continue
			}
		}
		if !st.wait(deadline) {
			return false
		}
	}
}

// failExecutor ends a running executor as the faults ask, and deletes it when they say so.
func (e *Emulator) failExecutor(ctx context.Context, log *slog.Logger, pod *corev1.Pod, faults executorFaults) bool {
	if _, err := terminate(ctx, e.client, pod.Namespace, pod.Name, faults.with); err != nil {
		if ctx.Err() == nil {
			log.Error("fail executor", "executor", pod.Name, "err", err)
		}
		return false
	}
	if faults.deleteThem {
		if err := e.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			log.Error("delete failed executor", "executor", pod.Name, "err", err)
		}
	}
	return true
}

// largestExecutorID is the largest executor id the driver has, from a live list: the cache
// may not hold them all yet when the emulator has just started.
func (e *Emulator) largestExecutorID(ctx context.Context, log *slog.Logger, driver *corev1.Pod) int {
	list, err := e.client.CoreV1().Pods(driver.Namespace).List(ctx, metav1.ListOptions{
		LabelSelector: labels.SelectorFromSet(labels.Set{LabelRole: RoleExecutor}).String(),
	})
	if err != nil {
		if ctx.Err() == nil {
			log.Error("list executors of driver", "err", err)
		}
		return 0
	}
	largest := 0
	for i := range list.Items {
		pod := &list.Items[i]
		if ref := metav1.GetControllerOf(pod); ref == nil || ref.UID != driver.UID {
			continue
		}
		if id, err := strconv.Atoi(pod.Labels[LabelExecID]); err == nil {
			largest = max(largest, id)
		}
	}
	return largest
}

func maxFailuresForLog(l ExecutorFailureLimit) string {
	if !l.Enabled {
		return "none"
	}
	return strconv.Itoa(l.Max)
}

func (e *Emulator) createExecutor(ctx context.Context, plan *ExecutorPlan, id int) error {
	pod := plan.Pod(id)
	_, err := e.client.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create executor pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

// end terminates the driver, then its executors as Spark does when the app stops.
func (e *Emulator) end(ctx context.Context, log *slog.Logger, driver *corev1.Pod, t Termination) {
	e.stopProgress(driver.UID)
	if t.ExitCode == 0 {
		e.print(ctx, log, driver, "INFO SparkContext: Successfully stopped SparkContext")
	} else {
		e.print(ctx, log, driver, "ERROR SparkSubmit: the application exits with code %d (%s): %s", t.ExitCode, t.Reason, t.Message)
	}
	ended, err := terminate(ctx, e.client, driver.Namespace, driver.Name, t)
	if err != nil {
		if ctx.Err() == nil && !apierrors.IsNotFound(err) {
			log.Error("end driver", "err", err)
		}
		return
	}
	log.Info("driver ended", "phase", ended.Status.Phase, "exitCode", t.ExitCode, "reason", t.Reason, "message", t.Message)
	e.finishExecutors(ctx, log, ended)
}

// print writes one line of the driver's log.
func (e *Emulator) print(ctx context.Context, log *slog.Logger, pod *corev1.Pod, format string, args ...any) {
	if err := e.cfg.Logs.Printf(ctx, pod, format, args...); err != nil && ctx.Err() == nil {
		log.Warn("write driver log", "err", err)
	}
}

// printProgress writes what a starting Spark driver prints, then a line a second until end.
func (e *Emulator) printProgress(ctx context.Context, log *slog.Logger, pod *corev1.Pod, end time.Time) {
	if e.cfg.Logs == nil {
		return
	}
	e.print(ctx, log, pod, "INFO SparkContext: Running Spark version %s (played by Kindling's driver emulator)", pod.Labels["spark-version"])
	e.print(ctx, log, pod, "INFO SparkContext: Submitted application: %s", pod.Labels["spark-app-name"])
	ctx, cancel := context.WithCancel(ctx)
	e.progressMu.Lock()
	if e.progress == nil {
		e.progress = map[types.UID]context.CancelFunc{}
	}
	e.progress[pod.UID] = cancel
	e.progressMu.Unlock()
	go func() {
		defer e.stopProgress(pod.UID)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for n := 1; ; n++ {
			select {
			case <-ctx.Done():
				return
			case now := <-tick.C:
				if !now.Before(end) {
					return
				}
				e.print(ctx, log, pod, "INFO DAGScheduler: Job 0 running, %d s, %s left", n, end.Sub(now).Round(time.Second))
			}
		}
	}()
}

// stopProgress ends a driver's progress lines (it ended, or gave up early).
func (e *Emulator) stopProgress(uid types.UID) {
	e.progressMu.Lock()
	defer e.progressMu.Unlock()
	if cancel, ok := e.progress[uid]; ok {
		cancel()
		delete(e.progress, uid)
	}
}

// finishExecutors deletes the ended driver's executors, or, with
// spark.kubernetes.executor.deleteOnTermination=false, leaves them ended.
func (e *Emulator) finishExecutors(ctx context.Context, log *slog.Logger, driver *corev1.Pod) {
	deleteThem := true
	if conf, err := ReadDriverConf(ctx, e.client, driver); err == nil {
		if v, err := strconv.ParseBool(conf.Properties.Get("spark.kubernetes.executor.deleteOnTermination", "true")); err == nil {
			deleteThem = v
		}
	}
	// A live list, not the cache: executors created just before the end may not be cached yet.
	list, err := e.client.CoreV1().Pods(driver.Namespace).List(ctx, metav1.ListOptions{
		LabelSelector: labels.SelectorFromSet(labels.Set{LabelRole: RoleExecutor}).String(),
	})
	if err != nil {
		if ctx.Err() == nil {
			log.Error("list executors of ended driver", "err", err)
		}
		return
	}
	var names []string
	for i := range list.Items {
		pod := &list.Items[i]
		ref := metav1.GetControllerOf(pod)
		if ref == nil || ref.UID != driver.UID || pod.DeletionTimestamp != nil {
			continue
		}
		if ctx.Err() != nil {
			// The driver was deleted (the garbage collector takes its executors) or we are
			// stopping (a restarted emulator finishes this, see onPod).
			return
		}
		if deleteThem {
			err = e.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{})
			if err != nil && !apierrors.IsNotFound(err) {
				if ctx.Err() == nil {
					log.Error("delete executor", "executor", pod.Name, "err", err)
				}
				continue
			}
		} else if !isTerminal(pod) {
			// The executor JVM exits once its driver is gone.
			if _, err := terminate(ctx, e.client, pod.Namespace, pod.Name, terminationFor(0, "")); err != nil {
				log.Error("end executor", "executor", pod.Name, "err", err)
				continue
			}
		}
		names = append(names, pod.Name)
	}
	slices.Sort(names)
	if len(names) > 0 {
		log.Info("executors finished", "deleted", deleteThem, "executors", fmt.Sprint(names))
	}
}

// failImagePull keeps a driver whose image "cannot be pulled" waiting. kwok, started with
// the stages in dev/emulator/stages, reports ErrImagePull; after a while the kubelet would
// switch to ImagePullBackOff, which the emulator does. Without those stages kwok runs the
// pod, and the emulator fails it with a message saying what the stack lacks.
func (e *Emulator) failImagePull(ctx context.Context, log *slog.Logger, st *driverState, uid types.UID) {
	for {
		pod := e.driver(st, uid)
		if pod == nil || pod.DeletionTimestamp != nil || isTerminal(pod) {
			return
		}
		switch {
		case pod.Status.Phase == corev1.PodRunning:
			msg := "kindling emulator: " + AnnotationImagePullError + "=true but kwok ran the pod; start kwok with the stages in dev/emulator/stages"
			log.Error("cannot emulate image pull error", "reason", msg)
			e.end(ctx, log, pod, terminationFor(1, msg))
			return
		case waitingReason(pod) == "ErrImagePull":
			if !sleepUntil(ctx, time.Now().Add(e.cfg.ImagePullBackOffAfter)) {
				return
			}
			image := ""
			if c := driverContainer(pod); c != nil {
				image = c.Image
			}
			msg := fmt.Sprintf("Back-off pulling image %q", image)
			if err := setWaiting(ctx, e.client, pod.Namespace, pod.Name, "ImagePullBackOff", msg); err != nil {
				log.Error("report image pull back-off", "err", err)
				return
			}
			log.Info("driver image pull backing off")
			return
		case waitingReason(pod) == "ImagePullBackOff":
			return
		}
		if !st.wait(ctx) {
			return
		}
	}
}

// sleepUntil waits for t; false when ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// executorMemoryLimit is the memory limit Spark gives every executor of the plan.
func executorMemoryLimit(plan *ExecutorPlan) (resource.Quantity, bool) {
	pod := plan.Pod(1)
	for _, c := range pod.Spec.Containers {
		if q, ok := c.Resources.Limits[corev1.ResourceMemory]; ok {
			return q, true
		}
	}
	return resource.Quantity{}, false
}
