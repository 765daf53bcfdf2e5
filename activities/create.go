package activities

import (
	"context"
	"encoding/json"
	"fmt"

	"go.temporal.io/sdk/temporal"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kindling-dev/kindling/k8s"
)

// CreateResources creates one attempt's objects in Spark's order: the conf ConfigMap and
// other pre-resources, the driver pod, then the headless service; the pre-resources get an
// ownerReference to the driver pod so deleting the pod removes them all. Each create is
// idempotent: an object that already exists and carries this attempt's labels is taken as
// created, so a retried activity or a restarted worker never makes a second driver.
func (a *Activities) CreateResources(ctx context.Context, in CreateInput) (CreateOutput, error) {
	r := &in.Rendered
	if r.DriverPod == nil || r.ConfigMap == nil || r.Service == nil {
		return CreateOutput{}, temporal.NewNonRetryableApplicationError(
			"create: the rendered attempt lacks its driver pod, service or ConfigMap", ErrSubmission, nil)
	}
	ns := r.Namespace
	run, attempt := r.DriverPod.Labels[k8s.LabelRun], r.DriverPod.Labels[k8s.LabelAttempt]
	mine := func(m metav1.Object) error {
		l := m.GetLabels()
		if l[k8s.LabelRun] == run && l[k8s.LabelAttempt] == attempt {
			return nil
		}
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"%s/%s exists and belongs to something else (labels %s=%q, %s=%q): delete it or rename the job",
			ns, m.GetName(), k8s.LabelRun, l[k8s.LabelRun], k8s.LabelAttempt, l[k8s.LabelAttempt]), ErrForeignObject, nil)
	}

	cms := a.Kube.CoreV1().ConfigMaps(ns)
	cm, err := cms.Create(ctx, r.ConfigMap, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		if cm, err = cms.Get(ctx, r.ConfigMap.Name, metav1.GetOptions{}); err == nil {
			err = mine(cm)
		}
	}
	if err != nil {
		return CreateOutput{}, submitError("create ConfigMap "+r.ConfigMap.Name, err)
	}

	var extras []*unstructured.Unstructured
	for _, obj := range r.Extra {
		got, err := a.createExtra(ctx, obj, mine)
		if err != nil {
			return CreateOutput{}, err
		}
		extras = append(extras, got)
	}

	pods := a.Kube.CoreV1().Pods(ns)
	pod, err := pods.Create(ctx, r.DriverPod, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		if pod, err = pods.Get(ctx, r.DriverPod.Name, metav1.GetOptions{}); err == nil {
			err = mine(pod)
		}
	}
	if err != nil {
		return CreateOutput{}, submitError("create driver pod "+r.DriverPod.Name, err)
	}
	owner := metav1.OwnerReference{
		APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID,
		Controller: ptr(true),
	}

	svc := r.Service.DeepCopy()
	svc.OwnerReferences = append(svc.OwnerReferences, owner)
	svcs := a.Kube.CoreV1().Services(ns)
	_, err = svcs.Create(ctx, svc, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		var existing *corev1.Service
		if existing, err = svcs.Get(ctx, svc.Name, metav1.GetOptions{}); err == nil {
			err = mine(existing)
		}
	}
	if err != nil {
		return CreateOutput{}, submitError("create driver service "+svc.Name, err)
	}

	if err := a.adopt(ctx, "", "v1", "configmaps", ns, cm.Name, cm.OwnerReferences, owner); err != nil {
		return CreateOutput{}, err
	}
	for _, e := range extras {
		if err := a.adoptExtra(ctx, e, owner); err != nil {
			return CreateOutput{}, err
		}
	}
	logger(ctx).Info("attempt created", "namespace", ns, "driverPod", pod.Name, "service", svc.Name, "configMap", cm.Name, "appId", r.AppID)
	return CreateOutput{DriverPod: pod.Name, DriverUID: string(pod.UID)}, nil
}

func (a *Activities) createExtra(ctx context.Context, obj *unstructured.Unstructured, mine func(metav1.Object) error) (*unstructured.Unstructured, error) {
	gvk := obj.GroupVersionKind()
	what := fmt.Sprintf("create %s %s", gvk.Kind, obj.GetName())
	if a.Dynamic == nil || a.Mapper == nil {
		return nil, temporal.NewNonRetryableApplicationError(what+": this worker has no dynamic client", ErrSubmission, nil)
	}
	m, err := a.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"%s: the cluster does not serve %s (is its operator or CRD installed?): %v", what, gvk, err), ErrSubmission, nil)
	}
	res := a.Dynamic.Resource(m.Resource).Namespace(obj.GetNamespace())
	got, err := res.Create(ctx, obj, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		if got, err = res.Get(ctx, obj.GetName(), metav1.GetOptions{}); err == nil {
			err = mine(got)
		}
	}
	if err != nil {
		return nil, submitError(what, err)
	}
	return got, nil
}

func (a *Activities) adoptExtra(ctx context.Context, obj *unstructured.Unstructured, owner metav1.OwnerReference) error {
	gvk := obj.GroupVersionKind()
	m, err := a.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return submitError("map "+gvk.String(), err)
	}
	return a.adopt(ctx, m.Resource.Group, m.Resource.Version, m.Resource.Resource, obj.GetNamespace(), obj.GetName(), obj.GetOwnerReferences(), owner)
}

// adopt gives an object an ownerReference to the driver pod, unless it has one already.
func (a *Activities) adopt(ctx context.Context, group, version, resource, ns, name string, refs []metav1.OwnerReference, owner metav1.OwnerReference) error {
	for _, r := range refs {
		if r.UID == owner.UID {
			return nil
		}
	}
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{
		"ownerReferences": append(refs, owner),
	}})
	var err error
	if group == "" && resource == "configmaps" {
		_, err = a.Kube.CoreV1().ConfigMaps(ns).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	} else {
		gvr := schema.GroupVersionResource{Group: group, Version: version, Resource: resource}
		_, err = a.Dynamic.Resource(gvr).Namespace(ns).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	}
	if err != nil {
		return submitError(fmt.Sprintf("set owner of %s %s to driver pod %s", resource, name, owner.Name), err)
	}
	return nil
}

// submitError sorts a Kubernetes error: the request itself is wrong (invalid, forbidden,
// namespace missing) fails for good; anything else is retried by the activity's policy.
func submitError(what string, err error) error {
	if _, ok := err.(*temporal.ApplicationError); ok {
		return err
	}
	msg := fmt.Sprintf("%s: %v", what, err)
	switch {
	case apierrors.IsNotFound(err):
		return temporal.NewNonRetryableApplicationError(msg+" (does the namespace exist?)", ErrSubmission, err)
	case apierrors.IsInvalid(err), apierrors.IsForbidden(err), apierrors.IsBadRequest(err),
		apierrors.IsUnauthorized(err), apierrors.IsRequestEntityTooLargeError(err):
		return temporal.NewNonRetryableApplicationError(msg, ErrSubmission, err)
	}
	return temporal.NewApplicationError(msg, ErrSubmission, err)
}

func ptr[T any](v T) *T { return &v }
