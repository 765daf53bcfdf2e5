package controller

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/kindling-dev/kindling/activities"
	"github.com/kindling-dev/kindling/k8s/api/v1beta2"
	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/workflows"
)

// ScheduleReconciler runs ScheduledSparkApplications: each becomes a Temporal Schedule whose
// runs create a SparkApplication owned by the object at every fire time (as the operator
// does), which AppReconciler then runs. It deletes old runs' objects beyond the history limits
// and writes the operator's ScheduledSparkApplication status.
type ScheduleReconciler struct {
	Client    ctrlclient.Client
	Reader    ctrlclient.Reader // the API server itself, for retries after a conflict
	Temporal  client.Client
	TaskQueue string
}

// AnnotationScheduleHash is a hash of what the Temporal schedule was last made from (spec and
// annotations), so it is updated only when they change.
const AnnotationScheduleHash = "controller.kindling.dev/schedule-hash"

// ScheduleID is the Temporal Schedule of a ScheduledSparkApplication.
func ScheduleID(s *v1beta2.ScheduledSparkApplication) string {
	return fmt.Sprintf("scheduledsparkapp/%s/%s/%s", s.Namespace, s.Name, s.UID)
}

// Reconcile brings one ScheduledSparkApplication's schedule, runs and status up to date.
func (r *ScheduleReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	s := &v1beta2.ScheduledSparkApplication{}
	if err := r.Client.Get(ctx, req.NamespacedName, s); err != nil {
		return reconcile.Result{}, ctrlclient.IgnoreNotFound(err)
	}
	id := ScheduleID(s)
	if !s.DeletionTimestamp.IsZero() {
		if !controllerutil.ContainsFinalizer(s, Finalizer) {
			return reconcile.Result{}, nil
		}
		if err := r.deleteSchedule(ctx, id); err != nil {
			return reconcile.Result{}, err
		}
		orig := s.DeepCopy()
		controllerutil.RemoveFinalizer(s, Finalizer)
		return reconcile.Result{}, ctrlclient.IgnoreNotFound(r.Client.Patch(ctx, s, ctrlclient.MergeFrom(orig)))
	}
	if !controllerutil.ContainsFinalizer(s, Finalizer) {
		orig := s.DeepCopy()
		controllerutil.AddFinalizer(s, Finalizer)
		if err := r.Client.Patch(ctx, s, ctrlclient.MergeFrom(orig)); err != nil {
			return reconcile.Result{}, fmt.Errorf("add finalizer: %w", err)
		}
	}

	hash := scheduleHash(s)
	if s.Annotations[AnnotationScheduleHash] != hash {
		sched := &job.Scheduled{Name: s.Name, Namespace: s.Namespace, Annotations: s.Annotations, Spec: s.Spec,
			Job: &job.JobSpec{Name: s.Name, Namespace: s.Namespace, Labels: s.Labels, SparkApplicationSpec: s.Spec.Template}}
		plan, err := workflows.PlanAppSchedule(sched, s.Labels, string(s.UID), id, r.TaskQueue)
		if err != nil {
			// The operator's FailedValidation: no runs until the spec is fixed.
			if derr := r.deleteSchedule(ctx, id); derr != nil {
				return reconcile.Result{}, derr
			}
			// Forget the last schedule made, so the spec fixed back to it makes it again.
			if derr := r.setHash(ctx, s, ""); derr != nil {
				return reconcile.Result{}, derr
			}
			return reconcile.Result{}, r.writeStatus(ctx, s, func(st *v1beta2.ScheduledSparkApplicationStatus) {
				st.ScheduleState, st.Reason, st.NextRun = v1beta2.ScheduleStateFailedValidation, err.Error(), metav1.Time{}
			})
		}
		if _, err := workflows.ApplySchedule(ctx, r.Temporal, plan); err != nil {
			return reconcile.Result{}, err
		}
		// spec.suspend pauses; clearing it resumes (ApplySchedule leaves a pause alone).
		if !ptr.Deref(s.Spec.Suspend, false) {
			h := r.Temporal.ScheduleClient().GetHandle(ctx, id)
			d, err := h.Describe(ctx)
			if err != nil {
				return reconcile.Result{}, fmt.Errorf("describe schedule %s: %w", id, err)
			}
			if d.Schedule.State != nil && d.Schedule.State.Paused && strings.HasPrefix(d.Schedule.State.Note, "suspended: spec.suspend") {
				if err := h.Unpause(ctx, client.ScheduleUnpauseOptions{Note: "spec.suspend cleared"}); err != nil {
					return reconcile.Result{}, err
				}
			}
		}
		if err := r.setHash(ctx, s, hash); err != nil {
			return reconcile.Result{}, err
		}
		log.FromContext(ctx).Info("schedule applied", "scheduleId", id, "schedule", s.Spec.Schedule)
	}

	runs, err := r.runs(ctx, s)
	if err != nil {
		return reconcile.Result{}, err
	}
	runs, err = r.prune(ctx, s, runs)
	if err != nil {
		return reconcile.Result{}, err
	}
	var next time.Time
	d, err := r.Temporal.ScheduleClient().GetHandle(ctx, id).Describe(ctx)
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound):
		// Deleted behind the controller's back (by hand in Temporal): make it again.
		return reconcile.Result{RequeueAfter: time.Second}, r.setHash(ctx, s, "")
	case err != nil:
		return reconcile.Result{}, fmt.Errorf("describe schedule %s: %w", id, err)
	}
	if len(d.Info.NextActionTimes) > 0 && !(d.Schedule.State != nil && d.Schedule.State.Paused) {
		next = d.Info.NextActionTimes[0]
	}
	err = r.writeStatus(ctx, s, func(st *v1beta2.ScheduledSparkApplicationStatus) {
		st.ScheduleState, st.Reason = v1beta2.ScheduleStateScheduled, ""
		st.NextRun = metav1.Time{}
		if !next.IsZero() {
			st.NextRun = metav1.NewTime(next.UTC())
		}
		st.PastSuccessfulRunNames, st.PastFailedRunNames = nil, nil
		for _, a := range runs { // newest first
			switch a.Status.AppState.State {
			case v1beta2.ApplicationStateCompleted:
				st.PastSuccessfulRunNames = append(st.PastSuccessfulRunNames, a.Name)
			case v1beta2.ApplicationStateFailed:
				st.PastFailedRunNames = append(st.PastFailedRunNames, a.Name)
			}
		}
		if len(runs) > 0 {
			st.LastRunName, st.LastRun = runs[0].Name, runs[0].CreationTimestamp
		}
	})
	if err != nil {
		return reconcile.Result{}, err
	}
	// Wake for the next run's nextRun (the new run's object wakes it anyway).
	after := time.Minute
	if !next.IsZero() {
		after = min(after, max(time.Until(next)+time.Second, time.Second))
	}
	return reconcile.Result{RequeueAfter: after}, nil
}

// runs are the object's runs (SparkApplications it owns), newest first.
func (r *ScheduleReconciler) runs(ctx context.Context, s *v1beta2.ScheduledSparkApplication) ([]v1beta2.SparkApplication, error) {
	var list v1beta2.SparkApplicationList
	if err := r.Client.List(ctx, &list, ctrlclient.InNamespace(s.Namespace), ctrlclient.MatchingLabels{activities.LabelScheduledAppName: s.Name}); err != nil {
		return nil, err
	}
	var out []v1beta2.SparkApplication
	for _, a := range list.Items {
		if metav1.IsControlledBy(&a, s) && a.DeletionTimestamp.IsZero() {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(x, y v1beta2.SparkApplication) int {
		if c := y.CreationTimestamp.Compare(x.CreationTimestamp.Time); c != 0 {
			return c
		}
		return strings.Compare(y.Name, x.Name)
	})
	return out, nil
}

// prune deletes ended runs beyond successfulRunHistoryLimit and failedRunHistoryLimit (1 each
// when unset, as the operator), oldest first, and returns the runs left.
func (r *ScheduleReconciler) prune(ctx context.Context, s *v1beta2.ScheduledSparkApplication, runs []v1beta2.SparkApplication) ([]v1beta2.SparkApplication, error) {
	keepOK, keepFailed := int(ptr.Deref(s.Spec.SuccessfulRunHistoryLimit, 1)), int(ptr.Deref(s.Spec.FailedRunHistoryLimit, 1))
	var left []v1beta2.SparkApplication
	bg := metav1.DeletePropagationBackground
	for _, a := range runs {
		var keep *int
		switch a.Status.AppState.State {
		case v1beta2.ApplicationStateCompleted:
			keep = &keepOK
		case v1beta2.ApplicationStateFailed:
			keep = &keepFailed
		}
		if keep == nil || *keep > 0 {
			if keep != nil {
				*keep--
			}
			left = append(left, a)
			continue
		}
		log.FromContext(ctx).Info("run history limit: deleting an old run", "sparkApplication", a.Name, "state", a.Status.AppState.State)
		if err := r.Client.Delete(ctx, &a, &ctrlclient.DeleteOptions{PropagationPolicy: &bg}); ctrlclient.IgnoreNotFound(err) != nil {
			return nil, err
		}
	}
	return left, nil
}

func (r *ScheduleReconciler) deleteSchedule(ctx context.Context, id string) error {
	err := r.Temporal.ScheduleClient().GetHandle(ctx, id).Delete(ctx)
	var notFound *serviceerror.NotFound
	if err != nil && !errors.As(err, &notFound) {
		return fmt.Errorf("delete schedule %s: %w", id, err)
	}
	return nil
}

func (r *ScheduleReconciler) writeStatus(ctx context.Context, s *v1beta2.ScheduledSparkApplication, change func(*v1beta2.ScheduledSparkApplicationStatus)) error {
	return updateStatus(ctx, r.Client, r.Reader, s,
		func(o *v1beta2.ScheduledSparkApplication) any { return o.Status },
		func(o *v1beta2.ScheduledSparkApplication) { change(&o.Status) })
}

// setHash records what the Temporal schedule was last made from ("": nothing).
func (r *ScheduleReconciler) setHash(ctx context.Context, s *v1beta2.ScheduledSparkApplication, hash string) error {
	if s.Annotations[AnnotationScheduleHash] == hash {
		return nil
	}
	orig := s.DeepCopy()
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	if hash == "" {
		delete(s.Annotations, AnnotationScheduleHash)
	} else {
		s.Annotations[AnnotationScheduleHash] = hash
	}
	return r.Client.Patch(ctx, s, ctrlclient.MergeFrom(orig))
}

// scheduleHash hashes what the Temporal schedule is made from: the spec and the annotations
// that carry Kindling's schedule settings.
func scheduleHash(s *v1beta2.ScheduledSparkApplication) string {
	ann := map[string]string{}
	for k, v := range s.Annotations {
		if strings.HasPrefix(k, "kindling.dev/") {
			ann[k] = v
		}
	}
	b, _ := json.Marshal(struct {
		Spec   job.ScheduledSparkApplicationSpec
		Ann    map[string]string
		Labels map[string]string
	}{s.Spec, ann, s.Labels})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}
