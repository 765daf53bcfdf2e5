package cluster

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var podGroups = schema.GroupVersionResource{Group: "scheduling.volcano.sh", Version: "v1beta1", Resource: "podgroups"}

// Delete removes an attempt: the driver pod (ownerReferences take its ConfigMap and
// Service), then anything left in namespace that matches one of selectors: pods, services,
// ConfigMaps, claims and PodGroups. With driverUID set, only the pod of that UID is deleted
// by name: a pod that took the name since is not the attempt's. NotFound is success, so it
// may run again after a retry, a cancel or a restart.
func (o Objects) Delete(ctx context.Context, namespace, driverPod, driverUID string, selectors []string) error {
	core := o.Kube.CoreV1()
	pods := core.Pods(namespace)
	bg := metav1.DeletePropagationBackground
	del := metav1.DeleteOptions{PropagationPolicy: &bg}

	if driverPod != "" {
		d := del
		if driverUID != "" {
			d.Preconditions = metav1.NewUIDPreconditions(driverUID)
		}
		end := span(ctx, "delete driver Pod", namespace, driverPod)
		err := pods.Delete(ctx, driverPod, d)
		end(notFoundIsFine(err))
		// Conflict: the precondition failed, the pod of that name is someone else's.
		if err != nil && !apierrors.IsNotFound(err) && !(driverUID != "" && apierrors.IsConflict(err)) {
			return fmt.Errorf("delete driver pod %s/%s: %w", namespace, driverPod, err)
		}
	}
	for _, sel := range selectors {
		list := metav1.ListOptions{LabelSelector: sel}
		steps := []struct {
			what string
			do   func() error
		}{
			{"pods", func() error { return pods.DeleteCollection(ctx, del, list) }},
			{"services", func() error { return o.deleteServices(ctx, namespace, list, del) }},
			{"configmaps", func() error { return core.ConfigMaps(namespace).DeleteCollection(ctx, del, list) }},
			{"persistentvolumeclaims", func() error {
				return core.PersistentVolumeClaims(namespace).DeleteCollection(ctx, del, list)
			}},
		}
		for _, s := range steps {
			end := span(ctx, "delete "+s.what, namespace, sel)
			err := s.do()
			end(notFoundIsFine(err))
			if err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("delete %s with %s in %s: %w", s.what, sel, namespace, err)
			}
		}
		if o.Dynamic != nil && o.Mapper != nil {
			if _, err := o.Mapper.RESTMapping(schema.GroupKind{Group: podGroups.Group, Kind: "PodGroup"}, podGroups.Version); err == nil {
				err := o.Dynamic.Resource(podGroups).Namespace(namespace).DeleteCollection(ctx, del, list)
				if err != nil && !apierrors.IsNotFound(err) {
					return fmt.Errorf("delete podgroups with %s: %w", sel, err)
				}
			}
		}
	}
	return nil
}

// notFoundIsFine: deleting what is already gone is success.
func notFoundIsFine(err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// deleteServices deletes one by one: older API servers serve no deletecollection for services.
func (o Objects) deleteServices(ctx context.Context, ns string, list metav1.ListOptions, del metav1.DeleteOptions) error {
	svcs, err := o.Kube.CoreV1().Services(ns).List(ctx, list)
	if err != nil {
		return err
	}
	for _, s := range svcs.Items {
		if err := o.Kube.CoreV1().Services(ns).Delete(ctx, s.Name, del); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// PodsLeft counts the pods of an attempt still present: those matching selectors, and the
// driver pod by name (only the pod of driverUID, when set).
func (o Objects) PodsLeft(ctx context.Context, namespace, driverPod, driverUID string, selectors []string) (int, error) {
	left := 0
	for _, sel := range selectors {
		l, err := o.Kube.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			return 0, fmt.Errorf("list pods with %s: %w", sel, err)
		}
		left += len(l.Items)
	}
	if driverPod != "" {
		p, err := o.Kube.CoreV1().Pods(namespace).Get(ctx, driverPod, metav1.GetOptions{})
		if err == nil && (driverUID == "" || string(p.UID) == driverUID) {
			left++
		} else if !apierrors.IsNotFound(err) {
			return 0, fmt.Errorf("get driver pod %s: %w", driverPod, err)
		}
	}
	return left, nil
}
