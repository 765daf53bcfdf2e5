package activities

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kindling-dev/kindling/k8s/cluster"
	"github.com/kindling-dev/kindling/k8s/job"
)

func labelled(kind, name, run, attempt string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: "jobs", Labels: map[string]string{
		job.LabelManagedBy: job.ManagedByValue, job.LabelRun: run, job.LabelAttempt: attempt}}
}

// Cleanup removes exactly the attempt's objects, and runs again after a retry without minding.
func TestCleanupRemovesTheAttemptAndNothingElse(t *testing.T) {
	cs := fake.NewClientset(
		&corev1.Pod{ObjectMeta: labelled("pod", "a-driver", "run-a", "1")},
		&corev1.Pod{ObjectMeta: labelled("pod", "a-exec-1", "run-a", "1")},
		&corev1.Service{ObjectMeta: labelled("service", "a-driver-svc", "run-a", "1")},
		&corev1.ConfigMap{ObjectMeta: labelled("configmap", "a-conf", "run-a", "1")},
		// The same run's next attempt, and another run: not this cleanup's.
		&corev1.Pod{ObjectMeta: labelled("pod", "a2-driver", "run-a", "2")},
		&corev1.Pod{ObjectMeta: labelled("pod", "b-driver", "run-b", "1")},
		&corev1.ConfigMap{ObjectMeta: labelled("configmap", "b-conf", "run-b", "1")},
		// Someone else's pod, unlabelled.
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "notebook", Namespace: "jobs"}},
	)
	deleteCollectionByLabel(cs)
	a := &Activities{Cluster: cluster.Objects{Kube: cs}}
	in := CleanupInput{Namespace: "jobs", DriverPod: "a-driver", Selector: job.LabelRun + "=run-a," + job.LabelAttempt + "=1"}
	for i := 0; i < 2; i++ {
		if err := a.Cleanup(context.Background(), in); err != nil {
			t.Fatalf("cleanup %d: %v", i+1, err)
		}
	}
	left := names(t, cs)
	want := map[string]bool{"a2-driver": true, "b-driver": true, "notebook": true, "b-conf": true}
	if len(left) != len(want) {
		t.Fatalf("left %v, want exactly a2-driver, b-driver, notebook, b-conf", left)
	}
	for _, n := range left {
		if !want[n] {
			t.Errorf("%s was left, or the wrong objects were deleted: %v", n, left)
		}
	}
}

// deleteCollectionByLabel gives the fake clientset the API server's deletecollection, which
// its object tracker lacks.
func deleteCollectionByLabel(cs *fake.Clientset) {
	cs.PrependReactor("delete-collection", "*", func(action k8stesting.Action) (bool, runtime.Object, error) {
		dc := action.(k8stesting.DeleteCollectionAction)
		sel := dc.GetListRestrictions().Labels
		gvr := dc.GetResource()
		list, err := cs.Tracker().List(gvr, gvr.GroupVersion().WithKind(kinds[gvr.Resource]), dc.GetNamespace())
		if err != nil {
			return true, nil, err
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return true, nil, err
		}
		for _, item := range items {
			m, _ := meta.Accessor(item)
			if sel.Matches(labels.Set(m.GetLabels())) {
				if err := cs.Tracker().Delete(gvr, m.GetNamespace(), m.GetName()); err != nil {
					return true, nil, err
				}
			}
		}
		return true, nil, nil
	})
}

var kinds = map[string]string{"pods": "Pod", "configmaps": "ConfigMap", "persistentvolumeclaims": "PersistentVolumeClaim", "services": "Service"}
