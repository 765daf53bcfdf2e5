package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/kindling-dev/kindling/internal/crashpoint"
	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/k8s/render"
)

// Objects creates and deletes the objects of a job's attempts.
type Objects struct {
	Kube    kubernetes.Interface
	Dynamic dynamic.Interface // for extra objects (PodGroups, PVCs) by their kind
	Mapper  meta.RESTMapper   // kind → resource, for Dynamic
}

// ForeignError says an object with an attempt's name exists and belongs to something else.
type ForeignError struct {
	Namespace, Name string
	Labels          map[string]string
}

func (e *ForeignError) Error() string {
	return fmt.Sprintf("%s/%s exists and belongs to something else (labels %s=%q, %s=%q): delete it or rename the job",
		e.Namespace, e.Name, job.LabelRun, e.Labels[job.LabelRun], job.LabelAttempt, e.Labels[job.LabelAttempt])
}

// ApplyError is a create or patch that failed. Permanent: the request itself is wrong
// (invalid, forbidden, namespace or kind missing) and retrying cannot help.
type ApplyError struct {
	What      string
	Err       error
	Permanent bool
}

func (e *ApplyError) Error() string {
	msg := e.What
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if apierrors.IsNotFound(e.Err) {
		msg += " (does the namespace exist?)"
	}
	return msg
}

func (e *ApplyError) Unwrap() error { return e.Err }

// Applied names the driver pod an apply created or found.
type Applied struct {
	DriverPod string
	DriverUID string
}

// Apply creates one attempt's objects in Spark's order: the conf ConfigMap and other
// pre-resources, the driver pod, then the headless service; the pre-resources get an
// ownerReference to the driver pod so deleting the pod removes them all. Each create is
// idempotent: an object that already exists and carries this attempt's labels is taken as
// created, so a retry or a restart never makes a second driver. An object of the same name
// that is not the attempt's is a *ForeignError and is left as it is.
func (o Objects) Apply(ctx context.Context, r *render.Rendered) (Applied, error) {
	if r.DriverPod == nil || r.ConfigMap == nil || r.Service == nil {
		return Applied{}, &ApplyError{What: "create: the rendered attempt lacks its driver pod, service or ConfigMap", Permanent: true}
	}
	ns := r.Namespace
	run, attempt := r.DriverPod.Labels[job.LabelRun], r.DriverPod.Labels[job.LabelAttempt]
	mine := func(m metav1.Object) error {
		l := m.GetLabels()
		if l[job.LabelRun] == run && l[job.LabelAttempt] == attempt {
			return nil
		}
		return &ForeignError{Namespace: ns, Name: m.GetName(), Labels: l}
	}

	cms := o.Kube.CoreV1().ConfigMaps(ns)
	end := span(ctx, "create ConfigMap", ns, r.ConfigMap.Name)
	cm, err := cms.Create(ctx, r.ConfigMap, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		if cm, err = cms.Get(ctx, r.ConfigMap.Name, metav1.GetOptions{}); err == nil {
			err = mine(cm)
		}
	}
	end(err)
	if err != nil {
		return Applied{}, applyError("create ConfigMap "+r.ConfigMap.Name, err)
	}
	crashpoint.Here(crashpoint.AfterConfigMap)

	var extras []*unstructured.Unstructured
	for _, obj := range r.Extra {
		got, err := o.createExtra(ctx, obj, mine)
		if err != nil {
			return Applied{}, err
		}
		extras = append(extras, got)
	}

	pods := o.Kube.CoreV1().Pods(ns)
	end = span(ctx, "create driver Pod", ns, r.DriverPod.Name)
	pod, err := pods.Create(ctx, r.DriverPod, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		if pod, err = pods.Get(ctx, r.DriverPod.Name, metav1.GetOptions{}); err == nil {
			err = mine(pod)
		}
	}
	end(err)
	if err != nil {
		return Applied{}, applyError("create driver pod "+r.DriverPod.Name, err)
	}
	crashpoint.Here(crashpoint.AfterDriverPod)
	owner := metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID, Controller: ptr.To(true)}

	svc := r.Service.DeepCopy()
	svc.OwnerReferences = append(svc.OwnerReferences, owner)
	svcs := o.Kube.CoreV1().Services(ns)
	end = span(ctx, "create driver Service", ns, svc.Name)
	_, err = svcs.Create(ctx, svc, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		var existing *corev1.Service
		if existing, err = svcs.Get(ctx, svc.Name, metav1.GetOptions{}); err == nil {
			err = mine(existing)
		}
	}
	end(err)
	if err != nil {
		return Applied{}, applyError("create driver service "+svc.Name, err)
	}

	if err := o.adopt(ctx, schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, ns, cm.Name, cm.OwnerReferences, owner); err != nil {
		return Applied{}, err
	}
	for _, e := range extras {
		if err := o.adoptExtra(ctx, e, owner); err != nil {
			return Applied{}, err
		}
	}
	return Applied{DriverPod: pod.Name, DriverUID: string(pod.UID)}, nil
}

func (o Objects) createExtra(ctx context.Context, obj *unstructured.Unstructured, mine func(metav1.Object) error) (*unstructured.Unstructured, error) {
	gvk := obj.GroupVersionKind()
	what := fmt.Sprintf("create %s %s", gvk.Kind, obj.GetName())
	if o.Dynamic == nil || o.Mapper == nil {
		return nil, &ApplyError{What: what + ": this worker has no dynamic client", Permanent: true}
	}
	m, err := o.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if r, ok := o.Mapper.(meta.ResettableRESTMapper); ok && meta.IsNoMatchError(err) {
		// The mapper caches discovery: a CRD installed since it looked is found only anew.
		r.Reset()
		m, err = o.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	if err != nil {
		return nil, &ApplyError{What: fmt.Sprintf("%s: the cluster does not serve %s (is its operator or CRD installed?): %v", what, gvk, err), Permanent: true}
	}
	res := o.Dynamic.Resource(m.Resource).Namespace(obj.GetNamespace())
	got, err := res.Create(ctx, obj, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		if got, err = res.Get(ctx, obj.GetName(), metav1.GetOptions{}); err == nil {
			err = mine(got)
		}
	}
	if err != nil {
		return nil, applyError(what, err)
	}
	return got, nil
}

func (o Objects) adoptExtra(ctx context.Context, obj *unstructured.Unstructured, owner metav1.OwnerReference) error {
	gvk := obj.GroupVersionKind()
	m, err := o.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return applyError("map "+gvk.String(), err)
	}
	return o.adopt(ctx, m.Resource, obj.GetNamespace(), obj.GetName(), obj.GetOwnerReferences(), owner)
}

// adopt gives an object an ownerReference to the driver pod, unless it has one already.
func (o Objects) adopt(ctx context.Context, gvr schema.GroupVersionResource, ns, name string, refs []metav1.OwnerReference, owner metav1.OwnerReference) error {
	for _, r := range refs {
		if r.UID == owner.UID {
			return nil
		}
	}
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{
		"ownerReferences": append(refs, owner),
	}})
	var err error
	if gvr.Group == "" && gvr.Resource == "configmaps" {
		_, err = o.Kube.CoreV1().ConfigMaps(ns).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	} else {
		_, err = o.Dynamic.Resource(gvr).Namespace(ns).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	}
	if err != nil {
		return applyError(fmt.Sprintf("set owner of %s %s to driver pod %s", gvr.Resource, name, owner.Name), err)
	}
	return nil
}

// applyError sorts a Kubernetes error: the request itself is wrong (invalid, forbidden,
// namespace missing) is permanent; anything else may pass on a retry.
func applyError(what string, err error) error {
	var foreign *ForeignError
	if errors.As(err, &foreign) {
		return err
	}
	// A ResourceQuota that is exceeded answers Forbidden, but frees up as other pods end.
	quota := apierrors.IsForbidden(err) && strings.Contains(err.Error(), "exceeded quota")
	permanent := !quota && (apierrors.IsNotFound(err) || apierrors.IsInvalid(err) || apierrors.IsForbidden(err) || apierrors.IsBadRequest(err) ||
		apierrors.IsUnauthorized(err) || apierrors.IsRequestEntityTooLargeError(err))
	return &ApplyError{What: what, Err: err, Permanent: permanent}
}
