package activities

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kindling-dev/kindling/k8s"
)

// cleanupWait bounds how long Cleanup waits for the attempt's pods to be gone.
const cleanupWait = 2 * time.Minute

var podGroups = schema.GroupVersionResource{Group: "scheduling.volcano.sh", Version: "v1beta1", Resource: "podgroups"}

// Cleanup deletes the driver pod (ownerReferences take its ConfigMap and Service), then
// anything left with the attempt's labels or the app's executors, and waits until the
// attempt's pods are gone, so the next attempt never overlaps the last. NotFound is
// success: cleanup runs again after a retry, a cancel or a restart and must not mind.
func (a *Activities) Cleanup(ctx context.Context, in CleanupInput) error {
	pods := a.Kube.CoreV1().Pods(in.Namespace)
	bg := metav1.DeletePropagationBackground
	del := metav1.DeleteOptions{PropagationPolicy: &bg}

	if in.DriverPod != "" {
		if err := pods.Delete(ctx, in.DriverPod, del); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete driver pod %s/%s: %w", in.Namespace, in.DriverPod, err)
		}
	}
	var selectors []string
	if in.Selector != "" {
		selectors = append(selectors, in.Selector)
	}
	if in.AppID != "" {
		selectors = append(selectors, k8s.LabelSparkAppID+"="+in.AppID)
	}
	core := a.Kube.CoreV1()
	for _, sel := range selectors {
		list := metav1.ListOptions{LabelSelector: sel}
		steps := []struct {
			what string
			do   func() error
		}{
			{"pods", func() error { return pods.DeleteCollection(ctx, del, list) }},
			{"services", func() error { return deleteServices(ctx, a, in.Namespace, list, del) }},
			{"configmaps", func() error { return core.ConfigMaps(in.Namespace).DeleteCollection(ctx, del, list) }},
			{"persistentvolumeclaims", func() error {
				return core.PersistentVolumeClaims(in.Namespace).DeleteCollection(ctx, del, list)
			}},
		}
		for _, s := range steps {
			if err := s.do(); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("delete %s with %s in %s: %w", s.what, sel, in.Namespace, err)
			}
		}
		if a.Dynamic != nil && a.Mapper != nil {
			if _, err := a.Mapper.RESTMapping(schema.GroupKind{Group: podGroups.Group, Kind: "PodGroup"}, podGroups.Version); err == nil {
				err := a.Dynamic.Resource(podGroups).Namespace(in.Namespace).DeleteCollection(ctx, del, list)
				if err != nil && !apierrors.IsNotFound(err) {
					return fmt.Errorf("delete podgroups with %s: %w", sel, err)
				}
			}
		}
	}
	if err := a.waitPodsGone(ctx, in, selectors); err != nil {
		return err
	}
	logger(ctx).Info("attempt cleaned up", "namespace", in.Namespace, "driverPod", in.DriverPod, "appId", in.AppID)
	return nil
}

// deleteServices deletes one by one: older API servers serve no deletecollection for services.
func deleteServices(ctx context.Context, a *Activities, ns string, list metav1.ListOptions, del metav1.DeleteOptions) error {
	svcs, err := a.Kube.CoreV1().Services(ns).List(ctx, list)
	if err != nil {
		return err
	}
	for _, s := range svcs.Items {
		if err := a.Kube.CoreV1().Services(ns).Delete(ctx, s.Name, del); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}

func (a *Activities) waitPodsGone(ctx context.Context, in CleanupInput, selectors []string) error {
	deadline := time.Now().Add(cleanupWait)
	for {
		left := 0
		for _, sel := range selectors {
			l, err := a.Kube.CoreV1().Pods(in.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
			if err != nil {
				return fmt.Errorf("list pods with %s: %w", sel, err)
			}
			left += len(l.Items)
		}
		if in.DriverPod != "" {
			_, err := a.Kube.CoreV1().Pods(in.Namespace).Get(ctx, in.DriverPod, metav1.GetOptions{})
			if err == nil {
				left++
			} else if !apierrors.IsNotFound(err) {
				return fmt.Errorf("get driver pod %s: %w", in.DriverPod, err)
			}
		}
		if left == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d pods of %s still present %s after deletion", left, in.DriverPod, cleanupWait)
		}
		if activity.IsActivity(ctx) {
			activity.RecordHeartbeat(ctx, left)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}
