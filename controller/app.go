// Package controller is Kindling's controller mode: it runs every SparkApplication applied to
// the cluster (`kubectl apply`) as a SparkJob workflow, and writes the object's status the way
// the kubeflow Spark operator does, so Airflow, Argo and `kubectl get sparkapp` keep working.
//
// The reconciler is the only writer of a SparkApplication's status. It starts, cancels and
// replaces workflow runs (one per generation of the spec, by a workflow ID from the object's
// UID and generation, so a repeated reconcile never starts a second run), holds a finalizer
// until a deleted object's run has cleaned up, and computes the status from the run and its
// driver and executor pods (NextStatus).
package controller

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/kindling-dev/kindling/k8s/api/v1beta2"
	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/k8s/render"
	"github.com/kindling-dev/kindling/workflows"
)

// What the controller keeps on a SparkApplication.
const (
	// Finalizer holds a deleted object until its run is cancelled and its pods are gone. If
	// Kindling is uninstalled first, remove it by hand:
	//   kubectl patch sparkapp NAME --type merge -p '{"metadata":{"finalizers":null}}'
	// (the driver pod's owner reference still removes the pods).
	Finalizer = "kindling.dev/cleanup"
	// AnnotationWorkflowID names the workflow of the object's current run.
	AnnotationWorkflowID = "controller.kindling.dev/workflow-id"
	// AnnotationSpecHash is a hash of the spec that run was started from, without suspend and
	// timeToLiveSeconds: any other change reruns the application, as with the operator.
	AnnotationSpecHash = "controller.kindling.dev/spec-hash"
	// AnnotationSuspended marks an object whose run spec.suspend stopped: clearing suspend
	// resumes it. It changes with the workflow ID in one write, so a stale read can at worst
	// start the same run twice, which the workflow ID makes one.
	AnnotationSuspended = "controller.kindling.dev/suspended"
	// AnnotationStopping is "<workflow ID> suspend|edit" while the controller cancels that run
	// because of a suspend or an edit: if what asked for it is undone before the run closes,
	// the object runs again instead of ending as a cancelled run.
	AnnotationStopping = "controller.kindling.dev/stopping"
)

// Timings.
const (
	// FinalizeTimeout: a deleted object whose run has not ended this long after the delete
	// (Temporal down, no worker) loses its finalizer anyway; its owner reference takes the pods.
	FinalizeTimeout = 5 * time.Minute
	// resync: an open run is looked at this often even without events.
	resync = 30 * time.Second
)

// AppReconciler runs SparkApplications.
type AppReconciler struct {
	Client ctrlclient.Client
	// Reader reads the API server itself, not the cache: for the reads a decision to start a
	// run, or a retry after a conflict, must not take from a stale cache.
	Reader    ctrlclient.Reader
	Temporal  client.Client
	TaskQueue string

	// events wakes the object whose run just closed (watchRun).
	events   chan event.GenericEvent
	watching sync.Map // workflow ID → struct{}
	base     context.Context

	mu     sync.Mutex
	closed map[string]Run // workflow ID → Run: a closed run never changes; bounded by maxClosed
}

// maxClosed bounds the closed runs remembered; past it the memory starts afresh (a closed run
// is read again from Temporal when next needed).
const maxClosed = 10000

// WorkflowID is the ID of the run for one generation of a SparkApplication.
func WorkflowID(app *v1beta2.SparkApplication) string {
	return fmt.Sprintf("sparkapp/%s/%s/%s/g%d", app.Namespace, app.Name, app.UID, app.Generation)
}

// DriverPodName is the operator's name for the driver pod: spec.driver.podName, else
// spark.kubernetes.driver.pod.name, else <name>-driver.
func DriverPodName(app *v1beta2.SparkApplication) string {
	if n := app.Spec.Driver.PodName; n != "" {
		return n
	}
	if n := app.Spec.SparkConf["spark.kubernetes.driver.pod.name"]; n != "" {
		return n
	}
	return app.Name + "-driver"
}

// SpecHash hashes what of a spec reruns the application when it changes: everything but
// suspend and timeToLiveSeconds (the operator's event filter).
func SpecHash(spec *job.SparkApplicationSpec) string {
	s := spec.DeepCopy()
	s.Suspend, s.TimeToLiveSeconds = nil, nil
	b, _ := json.Marshal(s)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// JobSpec is the job a SparkApplication runs: its spec, with the driver pod name taken out
// (the run gets it through workflows.AppRef) and suspend handled here.
func JobSpec(app *v1beta2.SparkApplication) job.JobSpec {
	s := app.Spec.DeepCopy()
	s.Driver.PodName, s.Suspend = "", nil
	delete(s.SparkConf, "spark.kubernetes.driver.pod.name")
	return job.JobSpec{Name: app.Name, Namespace: app.Namespace, Labels: app.Labels, SparkApplicationSpec: *s}
}

// Reconcile brings one SparkApplication's run and status up to date.
func (r *AppReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	app := &v1beta2.SparkApplication{}
	if err := r.Client.Get(ctx, req.NamespacedName, app); err != nil {
		return reconcile.Result{}, ctrlclient.IgnoreNotFound(err)
	}
	if !app.DeletionTimestamp.IsZero() {
		return r.finalize(ctx, app)
	}
	if !controllerutil.ContainsFinalizer(app, Finalizer) {
		orig := app.DeepCopy()
		controllerutil.AddFinalizer(app, Finalizer)
		if err := r.Client.Patch(ctx, app, ctrlclient.MergeFrom(orig)); err != nil {
			return reconcile.Result{}, fmt.Errorf("add finalizer: %w", err)
		}
	}

	curID := app.Annotations[AnnotationWorkflowID]
	run, err := r.observeRun(ctx, curID)
	if err != nil {
		return reconcile.Result{}, err
	}
	state := app.Status.AppState.State
	hash, ranHash := SpecHash(&app.Spec), app.Annotations[AnnotationSpecHash]
	// Decisions read the annotations and the run, never the status: the status is the
	// controller's output, and a stale read of it must not stop or start a run.
	suspended := app.Annotations[AnnotationSuspended] == "true"
	stoppedID, why, _ := strings.Cut(app.Annotations[AnnotationStopping], " ")
	stopping := curID != "" && stoppedID == curID
	switch {
	case ptr.Deref(app.Spec.Suspend, false):
		if run.Open {
			return r.stop(ctx, app, run.ID, v1beta2.ApplicationStateSuspending)
		}
		if run.Found && run.Status != enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED && !stopping {
			break // it ended by itself before the suspend: its status stands
		}
		if ranHash == "" {
			ranHash = hash
		}
		if err := r.annotate(ctx, app, map[string]string{AnnotationSuspended: "true", AnnotationStopping: "", AnnotationSpecHash: ranHash}); err != nil {
			return reconcile.Result{}, err
		}
		return reconcile.Result{}, r.writeStatus(ctx, app, func(st *v1beta2.SparkApplicationStatus) {
			st.AppState = v1beta2.ApplicationState{State: v1beta2.ApplicationStateSuspended}
			st.TerminationTime = metav1.Time{}
		})
	case suspended:
		return r.start(ctx, app, v1beta2.ApplicationStateResuming)
	case curID == "" && ranHash == "" && state != v1beta2.ApplicationStateNew:
		// Run before by the operator (a migration): adopt it as it stands; an edit reruns it.
		log.FromContext(ctx).Info("adopting a SparkApplication the operator ran", "state", state)
		if err := r.annotate(ctx, app, map[string]string{AnnotationSpecHash: hash}); err != nil {
			return reconcile.Result{}, err
		}
		return r.expire(ctx, app)
	case curID == "" && ranHash == "":
		return r.start(ctx, app, v1beta2.ApplicationStateNew)
	case ranHash != hash && curID == WorkflowID(app):
		// The same generation: no one edited the spec; Kindling hashes it differently now.
		if err := r.annotate(ctx, app, map[string]string{AnnotationSpecHash: hash}); err != nil {
			return reconcile.Result{}, err
		}
	case ranHash != hash:
		if run.Open {
			return r.stop(ctx, app, run.ID, v1beta2.ApplicationStateInvalidating)
		}
		return r.start(ctx, app, v1beta2.ApplicationStateInvalidating)
	case stopping && run.Open:
		// A suspend or edit, undone while its run is being cancelled: wait for the run to close.
		r.watchRun(run.ID, app)
		return reconcile.Result{RequeueAfter: resync}, nil
	case stopping:
		if why == "suspend" {
			return r.start(ctx, app, v1beta2.ApplicationStateResuming)
		}
		return r.start(ctx, app, v1beta2.ApplicationStateInvalidating)
	}
	if !run.Found {
		return r.expire(ctx, app)
	}

	obs, err := r.observe(ctx, app, run)
	if err != nil {
		return reconcile.Result{}, err
	}
	if err := r.writeStatus(ctx, app, func(st *v1beta2.SparkApplicationStatus) {
		*st = NextStatus(*st, obs, time.Now())
	}); err != nil {
		return reconcile.Result{}, err
	}
	if run.Open {
		r.watchRun(run.ID, app)
		return reconcile.Result{RequeueAfter: resync}, nil
	}
	return r.expire(ctx, app)
}

// start begins a new run for the object's current generation, first removing the last run's
// driver (kept after it ended, and holding the name). state is what the status says until
// the driver appears: "" for a new object, INVALIDATING after an edit, RESUMING after suspend.
func (r *AppReconciler) start(ctx context.Context, app *v1beta2.SparkApplication, state v1beta2.ApplicationStateType) (reconcile.Result, error) {
	id := WorkflowID(app)
	// The cache may be behind: the object may already follow this run. Then it must not be
	// reset (its status is the run's).
	fresh := &v1beta2.SparkApplication{}
	if err := r.Reader.Get(ctx, ctrlclient.ObjectKeyFromObject(app), fresh); err != nil {
		return reconcile.Result{}, ctrlclient.IgnoreNotFound(err)
	}
	if fresh.Annotations[AnnotationWorkflowID] == id {
		return reconcile.Result{RequeueAfter: time.Second}, nil
	}
	if fresh.Generation != app.Generation {
		return reconcile.Result{RequeueAfter: time.Second}, nil // edited again: the next reconcile sees it
	}
	app = fresh
	old := app.Annotations[AnnotationWorkflowID]
	if gone, err := r.clearDriver(ctx, app, id); err != nil || !gone {
		return reconcile.Result{RequeueAfter: time.Second}, err
	}
	opts := client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                r.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		StaticSummary:            fmt.Sprintf("SparkApplication %s/%s, generation %d", app.Namespace, app.Name, app.Generation),
		StaticDetails: fmt.Sprintf("Started by Kindling's controller for `kubectl get sparkapp -n %s %s` (uid %s). "+
			"Its status is written back to the object; deleting the object cancels this run.", app.Namespace, app.Name, app.UID),
	}
	spec := JobSpec(app)
	opts.TypedSearchAttributes = workflows.StartSearchAttributes(&spec)
	carry := workflows.Carry{App: &workflows.AppRef{Name: app.Name, UID: string(app.UID), Generation: app.Generation, DriverPod: DriverPodName(app)}}
	_, err := r.Temporal.ExecuteWorkflow(ctx, opts, workflows.WorkflowName, spec, carry)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &started) {
		return reconcile.Result{}, fmt.Errorf("start workflow %s: %w", id, err)
	}
	if err := r.annotate(ctx, app, map[string]string{AnnotationWorkflowID: id, AnnotationSpecHash: SpecHash(&app.Spec),
		AnnotationSuspended: "", AnnotationStopping: ""}); err != nil {
		return reconcile.Result{}, err
	}
	r.forget(old)
	// A new submission: the operator's resetSparkApplicationStatus.
	if err := r.writeStatus(ctx, app, func(st *v1beta2.SparkApplicationStatus) {
		*st = v1beta2.SparkApplicationStatus{
			AppState:   v1beta2.ApplicationState{State: state},
			DriverInfo: v1beta2.DriverInfo{PodName: DriverPodName(app)},
		}
	}); err != nil {
		return reconcile.Result{}, err
	}
	log.FromContext(ctx).Info("started a run", "workflowId", id)
	r.watchRun(id, app)
	return reconcile.Result{RequeueAfter: resync}, nil
}

// stop cancels the object's open run and says why in its status (SUSPENDING, INVALIDATING);
// the run removes its pods, and the reconcile after it closes goes on.
func (r *AppReconciler) stop(ctx context.Context, app *v1beta2.SparkApplication, id string, state v1beta2.ApplicationStateType) (reconcile.Result, error) {
	why := "edit"
	if state == v1beta2.ApplicationStateSuspending {
		why = "suspend"
	}
	if err := r.annotate(ctx, app, map[string]string{AnnotationStopping: id + " " + why}); err != nil {
		return reconcile.Result{}, err
	}
	if err := r.writeStatus(ctx, app, func(st *v1beta2.SparkApplicationStatus) {
		st.AppState = v1beta2.ApplicationState{State: state}
	}); err != nil {
		return reconcile.Result{}, err
	}
	if err := r.cancel(ctx, id); err != nil {
		return reconcile.Result{}, err
	}
	r.watchRun(id, app)
	return reconcile.Result{RequeueAfter: resync}, nil
}

func (r *AppReconciler) cancel(ctx context.Context, id string) error {
	err := r.Temporal.CancelWorkflow(ctx, id, "")
	var notFound *serviceerror.NotFound
	if err != nil && !errors.As(err, &notFound) {
		return fmt.Errorf("cancel workflow %s: %w", id, err)
	}
	return nil
}

// finalize lets a deleted object go once its run has ended: a run still open is cancelled,
// and so removes its pods, first.
func (r *AppReconciler) finalize(ctx context.Context, app *v1beta2.SparkApplication) (reconcile.Result, error) {
	if !controllerutil.ContainsFinalizer(app, Finalizer) {
		return reconcile.Result{}, nil
	}
	// The annotated run, and this generation's in case it started but was never recorded.
	ids := []string{WorkflowID(app)}
	if id := app.Annotations[AnnotationWorkflowID]; id != "" && id != ids[0] {
		ids = append(ids, id)
	}
	if time.Since(app.DeletionTimestamp.Time) < FinalizeTimeout {
		open := false
		for _, id := range ids {
			run, err := r.observeRun(ctx, id)
			if err != nil {
				return reconcile.Result{}, err
			}
			if run.Open {
				open = true
				if err := r.cancel(ctx, id); err != nil {
					return reconcile.Result{}, err
				}
				r.watchRun(id, app)
			}
		}
		if open {
			return reconcile.Result{RequeueAfter: 5 * time.Second}, nil
		}
	}
	for _, id := range ids {
		r.forget(id)
	}
	orig := app.DeepCopy()
	controllerutil.RemoveFinalizer(app, Finalizer)
	if err := r.Client.Patch(ctx, app, ctrlclient.MergeFrom(orig)); err != nil && !apierrors.IsNotFound(err) {
		return reconcile.Result{}, fmt.Errorf("remove finalizer: %w", err)
	}
	return reconcile.Result{}, nil
}

// expire deletes an ended object after its timeToLiveSeconds, as the operator does.
func (r *AppReconciler) expire(ctx context.Context, app *v1beta2.SparkApplication) (reconcile.Result, error) {
	ttl := app.Spec.TimeToLiveSeconds
	end := app.Status.TerminationTime
	if ttl == nil || end.IsZero() || !terminal(app.Status.AppState.State) {
		return reconcile.Result{}, nil
	}
	if left := time.Until(end.Add(time.Duration(*ttl) * time.Second)); left > 0 {
		return reconcile.Result{RequeueAfter: left}, nil
	}
	log.FromContext(ctx).Info("timeToLiveSeconds passed: deleting the SparkApplication", "ttl", *ttl)
	bg := metav1.DeletePropagationBackground
	err := r.Client.Delete(ctx, app, &ctrlclient.DeleteOptions{PropagationPolicy: &bg, Preconditions: &metav1.Preconditions{UID: &app.UID}})
	return reconcile.Result{}, ctrlclient.IgnoreNotFound(err)
}

// clearDriver removes the object's driver pod left by an earlier run, so the run id can take
// its name; true once no such pod is in the way. A pod of that name the object does not own
// is left alone: the run's create reports it.
func (r *AppReconciler) clearDriver(ctx context.Context, app *v1beta2.SparkApplication, id string) (bool, error) {
	pod := &corev1.Pod{}
	err := r.Client.Get(ctx, types.NamespacedName{Namespace: app.Namespace, Name: DriverPodName(app)}, pod)
	if apierrors.IsNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if pod.Annotations[job.AnnotationWorkflow] == id {
		return true, nil
	}
	if !ownedBy(pod, app.UID) && !ownedByEarlier(pod, app) {
		return true, nil // not ours: the run's create reports it
	}
	bg := metav1.DeletePropagationBackground
	err = r.Client.Delete(ctx, pod, &ctrlclient.DeleteOptions{PropagationPolicy: &bg, Preconditions: &metav1.Preconditions{UID: &pod.UID}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return false, fmt.Errorf("delete the last run's driver %s: %w", pod.Name, err)
	}
	return false, nil
}

// annotate sets the object's annotations in kv in one write ("" removes one): the run it
// follows, the spec that run was started from, a suspend or a stop under way.
func (r *AppReconciler) annotate(ctx context.Context, app *v1beta2.SparkApplication, kv map[string]string) error {
	changed := false
	for k, v := range kv {
		if app.Annotations[k] != v {
			changed = true
		}
	}
	if !changed {
		return nil
	}
	orig := app.DeepCopy()
	if app.Annotations == nil {
		app.Annotations = map[string]string{}
	}
	for k, v := range kv {
		if v == "" {
			delete(app.Annotations, k)
		} else {
			app.Annotations[k] = v
		}
	}
	if err := r.Client.Patch(ctx, app, ctrlclient.MergeFrom(orig)); err != nil {
		return fmt.Errorf("annotate with the run: %w", err)
	}
	return nil
}

// writeStatus changes the object's status with change, on the object as it is now, retried
// on conflicts; an unchanged status is not written.
func (r *AppReconciler) writeStatus(ctx context.Context, app *v1beta2.SparkApplication, change func(*v1beta2.SparkApplicationStatus)) error {
	return updateStatus(ctx, r.Client, r.Reader, app,
		func(a *v1beta2.SparkApplication) any { return a.Status },
		func(a *v1beta2.SparkApplication) { change(&a.Status) })
}

// observeRun asks Temporal about run id ("": none yet).
func (r *AppReconciler) observeRun(ctx context.Context, id string) (Run, error) {
	if id == "" {
		return Run{}, nil
	}
	r.mu.Lock()
	c, ok := r.closed[id]
	r.mu.Unlock()
	if ok {
		return c, nil
	}
	d, err := r.Temporal.DescribeWorkflowExecution(ctx, id, "")
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return Run{ID: id}, nil
	}
	if err != nil {
		return Run{}, fmt.Errorf("describe workflow %s: %w", id, err)
	}
	info := d.GetWorkflowExecutionInfo()
	run := Run{ID: id, Found: true, Status: info.GetStatus()}
	if run.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		run.Open = true
		return run, nil
	}
	run.CloseTime = info.GetCloseTime().AsTime()
	var res workflows.JobResult
	err = r.Temporal.GetWorkflow(ctx, id, "").Get(ctx, &res)
	switch {
	case err == nil:
		run.Result = &res
	default:
		if res, ok := workflows.ResultFromError(err); ok {
			run.Result = &res
		} else {
			var appErr *temporal.ApplicationError
			if errors.As(err, &appErr) {
				run.Failure = appErr.Message()
			} else if ctx.Err() != nil {
				return Run{}, ctx.Err()
			} else {
				run.Failure = err.Error()
			}
		}
	}
	r.mu.Lock()
	if r.closed == nil || len(r.closed) >= maxClosed {
		r.closed = map[string]Run{}
	}
	r.closed[id] = run
	r.mu.Unlock()
	return run, nil
}

// forget drops a run the object no longer follows from the memory of closed runs.
func (r *AppReconciler) forget(id string) {
	r.mu.Lock()
	delete(r.closed, id)
	r.mu.Unlock()
}

// observe reads the run's driver and executors from the cache, and the run's live status when
// it is open and has no driver (between attempts).
func (r *AppReconciler) observe(ctx context.Context, app *v1beta2.SparkApplication, run Run) (Observed, error) {
	obs := Observed{Run: run, Suspended: ptr.Deref(app.Spec.Suspend, false)}
	pod := &corev1.Pod{}
	err := r.Client.Get(ctx, types.NamespacedName{Namespace: app.Namespace, Name: DriverPodName(app)}, pod)
	switch {
	case err == nil && ownedBy(pod, app.UID) && pod.Annotations[job.AnnotationWorkflow] == run.ID:
		obs.Driver = pod
	case err != nil && !apierrors.IsNotFound(err):
		return obs, err
	}
	if obs.Driver != nil {
		var execs corev1.PodList
		if err := r.Client.List(ctx, &execs, ctrlclient.InNamespace(app.Namespace), ctrlclient.MatchingLabels{
			job.LabelSparkAppID: obs.Driver.Labels[job.LabelSparkAppID], job.LabelSparkRole: job.SparkRoleExecutor,
		}); err != nil {
			return obs, err
		}
		obs.Executors = execs.Items
	} else if run.Open {
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if v, err := r.Temporal.QueryWorkflow(qctx, run.ID, "", workflows.QueryStatus); err == nil {
			var st workflows.Status
			if v.Get(&st) == nil {
				obs.Live = &st
			}
		}
	}
	return obs, nil
}

// watchRun wakes the object when its run closes, so its status turns COMPLETED or FAILED at
// once rather than at the next resync.
func (r *AppReconciler) watchRun(id string, app *v1beta2.SparkApplication) {
	if _, busy := r.watching.LoadOrStore(id, struct{}{}); busy {
		return
	}
	key := &v1beta2.SparkApplication{ObjectMeta: metav1.ObjectMeta{Namespace: app.Namespace, Name: app.Name}}
	go func() {
		defer r.watching.Delete(id)
		_ = r.Temporal.GetWorkflow(r.base, id, "").Get(r.base, nil)
		if r.base.Err() != nil {
			return
		}
		select {
		case r.events <- event.GenericEvent{Object: key}:
		case <-r.base.Done():
		}
		time.Sleep(time.Second) // no tight loop when Temporal answers with an error at once
	}()
}

func ownedBy(pod *corev1.Pod, uid types.UID) bool {
	for _, o := range pod.OwnerReferences {
		if o.UID == uid && o.Kind == "SparkApplication" && strings.HasPrefix(o.APIVersion, v1beta2.GroupVersion.Group+"/") {
			return true
		}
	}
	return false
}

// ownedByEarlier: the pod belongs to an earlier object of the same name (deleted and applied
// again), which garbage collection has not removed yet.
func ownedByEarlier(pod *corev1.Pod, app *v1beta2.SparkApplication) bool {
	for _, o := range pod.OwnerReferences {
		if o.Kind == "SparkApplication" && o.Name == app.Name && o.UID != app.UID && strings.HasPrefix(o.APIVersion, v1beta2.GroupVersion.Group+"/") {
			return true
		}
	}
	return false
}

func terminal(s v1beta2.ApplicationStateType) bool {
	return s == v1beta2.ApplicationStateCompleted || s == v1beta2.ApplicationStateFailed
}

// podApp is the SparkApplication a pod belongs to, by the operator's app-name label.
func podApp(pod ctrlclient.Object) (types.NamespacedName, bool) {
	name := pod.GetLabels()[render.LabelOperatorAppName]
	return types.NamespacedName{Namespace: pod.GetNamespace(), Name: name}, name != ""
}
