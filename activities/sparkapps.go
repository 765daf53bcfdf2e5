package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kindling-dev/kindling/k8s/job"
)

// SparkApplications is the resource of the operator's SparkApplication objects.
var SparkApplications = schema.GroupVersionResource{Group: "sparkoperator.k8s.io", Version: "v1beta2", Resource: "sparkapplications"}

// LabelScheduledAppName is the operator's label on the SparkApplication of a scheduled run:
// the ScheduledSparkApplication that made it.
const LabelScheduledAppName = "sparkoperator.k8s.io/scheduled-app-name"

// ErrForeignApp is the error type of a scheduled run whose SparkApplication name is taken by
// an object its schedule does not own.
const ErrForeignApp = "ForeignSparkApplication"

// ScheduledAppInput is one scheduled run's SparkApplication, made by its ScheduledSparkApplication.
type ScheduledAppInput struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"` // the run's object
	// The ScheduledSparkApplication that owns it.
	OwnerName string                   `json:"ownerName"`
	OwnerUID  string                   `json:"ownerUid"`
	Labels    map[string]string        `json:"labels,omitempty"`
	Spec      job.SparkApplicationSpec `json:"spec"`
}

// CreateScheduledApp creates a scheduled run's SparkApplication, owned by its schedule (so
// deleting the schedule deletes its runs), as the operator does; the controller runs it. It
// is idempotent: the run's object already there is taken as created.
func (a *Activities) CreateScheduledApp(ctx context.Context, in ScheduledAppInput) error {
	spec, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&in.Spec)
	if err != nil {
		return temporal.NewNonRetryableApplicationError("encode the template: "+err.Error(), ErrInvalidSpec, nil)
	}
	labels := map[string]string{}
	for k, v := range in.Labels {
		labels[k] = v
	}
	labels[LabelScheduledAppName] = in.OwnerName
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "sparkoperator.k8s.io/v1beta2", "kind": "SparkApplication", "spec": spec}}
	u.SetNamespace(in.Namespace)
	u.SetName(in.Name)
	u.SetLabels(labels)
	u.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: "sparkoperator.k8s.io/v1beta2", Kind: "ScheduledSparkApplication",
		Name: in.OwnerName, UID: types.UID(in.OwnerUID), Controller: ptrTrue()}})
	apps := a.Cluster.Dynamic.Resource(SparkApplications).Namespace(in.Namespace)
	_, err = apps.Create(ctx, u, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		cur, gerr := apps.Get(ctx, in.Name, metav1.GetOptions{})
		if gerr != nil {
			return gerr
		}
		for _, o := range cur.GetOwnerReferences() {
			if string(o.UID) == in.OwnerUID {
				return nil
			}
		}
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("SparkApplication %s/%s exists and is not this schedule's", in.Namespace, in.Name), ErrForeignApp, nil)
	}
	if err != nil {
		return fmt.Errorf("create SparkApplication %s/%s: %w", in.Namespace, in.Name, err)
	}
	return nil
}

// AppRef names a SparkApplication object.
type AppRef struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// AppEnding is how a SparkApplication ended, as its status says.
type AppEnding struct {
	State   string `json:"state"` // COMPLETED, FAILED, or DELETED when the object went first
	Message string `json:"message,omitempty"`
}

// WaitSparkApplication waits until a SparkApplication's status is COMPLETED or FAILED (or the
// object is gone), heartbeating the state it sees.
func (a *Activities) WaitSparkApplication(ctx context.Context, in AppRef) (AppEnding, error) {
	apps := a.Cluster.Dynamic.Resource(SparkApplications).Namespace(in.Namespace)
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		u, err := apps.Get(ctx, in.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return AppEnding{State: "DELETED", Message: "the SparkApplication was deleted before it ended"}, nil
		case err != nil && !errors.Is(err, context.Canceled):
			logger(ctx).Warn("read SparkApplication", "name", in.Name, "error", err)
		case err == nil:
			state, _, _ := unstructured.NestedString(u.Object, "status", "applicationState", "state")
			msg, _, _ := unstructured.NestedString(u.Object, "status", "applicationState", "errorMessage")
			if state == "COMPLETED" || state == "FAILED" {
				return AppEnding{State: state, Message: msg}, nil
			}
			if activity.IsActivity(ctx) {
				activity.RecordHeartbeat(ctx, state)
			}
		}
		select {
		case <-ctx.Done():
			return AppEnding{}, ctx.Err()
		case <-tick.C:
		}
	}
}

// DeleteSparkApplication deletes a SparkApplication (its controller then cancels its run);
// one already gone is fine.
func (a *Activities) DeleteSparkApplication(ctx context.Context, in AppRef) error {
	bg := metav1.DeletePropagationBackground
	err := a.Cluster.Dynamic.Resource(SparkApplications).Namespace(in.Namespace).Delete(ctx, in.Name, metav1.DeleteOptions{PropagationPolicy: &bg})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete SparkApplication %s/%s: %w", in.Namespace, in.Name, err)
	}
	return nil
}

func ptrTrue() *bool { t := true; return &t }
