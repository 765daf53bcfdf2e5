package cluster

import (
	"context"
	"os"
	"testing"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// On a real API server (the fake clientset ignores preconditions): a pod that took the
// driver's name is not deleted by the attempt's cleanup; the driver of the right UID is.
func TestDeleteTakesOnlyTheDriverOfItsUID(t *testing.T) {
	if os.Getenv("KINDLING_E2E") != "1" {
		t.Skip("needs the local stack's API server: make test (KINDLING_E2E=1)")
	}
	kc, err := Connect("")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pods := kc.Kube.CoreV1().Pods("default")
	pod := func() *corev1.Pod {
		p, err := pods.Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "uid-test-" + uuid.NewString()[:8]},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = pods.Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: new(int64)}) })
		return p
	}
	o := Objects{Kube: kc.Kube}

	stranger := pod()
	if err := o.Delete(ctx, "default", stranger.Name, "uid-of-our-driver", nil); err != nil {
		t.Fatalf("delete with another pod under the name: %v", err)
	}
	if p, err := pods.Get(ctx, stranger.Name, metav1.GetOptions{}); err != nil || p.DeletionTimestamp != nil {
		t.Fatalf("the pod that is not ours was deleted (%v)", err)
	}

	ours := pod()
	if err := o.Delete(ctx, "default", ours.Name, string(ours.UID), nil); err != nil {
		t.Fatal(err)
	}
	if p, err := pods.Get(ctx, ours.Name, metav1.GetOptions{}); err == nil && p.DeletionTimestamp == nil {
		t.Fatal("our driver, named with its UID, was not deleted")
	} else if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
}
