package cluster

import (
	"context"
	"errors"
	"os"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/k8s/render"
)

func renderExample(t *testing.T, workflowID string) render.Rendered {
	t.Helper()
	data, err := os.ReadFile("../../examples/spark-pi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := job.Read(data)
	if err != nil {
		t.Fatal(err)
	}
	job.Default(spec)
	r, err := render.Attempt(spec, render.Options{WorkflowID: workflowID, Attempt: 1})
	if err != nil {
		t.Fatal(err)
	}
	return *r
}

// fakeKube is a fake clientset that, like the API server, gives created objects a UID.
func fakeKube() *fake.Clientset {
	cs := fake.NewClientset()
	cs.PrependReactor("create", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		obj := a.(k8stesting.CreateAction).GetObject()
		if m, ok := obj.(metav1.Object); ok && m.GetUID() == "" {
			m.SetUID(types.UID("uid-" + m.GetName()))
		}
		return false, nil, nil
	})
	return cs
}

func TestApplyIsIdempotentAndOwnedByTheDriver(t *testing.T) {
	cs := fakeKube()
	o := Objects{Kube: cs}
	r := renderExample(t, "wf-1")
	ctx := context.Background()

	first, err := o.Apply(ctx, &r)
	if err != nil {
		t.Fatal(err)
	}
	// A retried activity (or a worker killed after the creates) runs again: same result.
	second, err := o.Apply(ctx, &r)
	if err != nil {
		t.Fatalf("second create: %v", err)
	}
	if first != second {
		t.Errorf("second create returned %+v, want %+v", second, first)
	}
	pods, _ := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
	if len(pods.Items) != 1 {
		t.Fatalf("%d pods after two creates, want exactly one driver", len(pods.Items))
	}
	svc, err := cs.CoreV1().Services("default").Get(ctx, r.Service.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm, err := cs.CoreV1().ConfigMaps("default").Get(ctx, r.ConfigMap.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for what, refs := range map[string][]metav1.OwnerReference{"service": svc.OwnerReferences, "configmap": cm.OwnerReferences} {
		if len(refs) != 1 || refs[0].Kind != "Pod" || refs[0].Name != first.DriverPod || string(refs[0].UID) != first.DriverUID {
			t.Errorf("%s owner references = %+v, want one to driver pod %s (%s)", what, refs, first.DriverPod, first.DriverUID)
		}
	}
}

func TestApplyRefusesAnObjectThatIsNotOurs(t *testing.T) {
	r := renderExample(t, "wf-1")
	stranger := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: r.DriverPod.Name, Namespace: "default",
		Labels: map[string]string{"app": "someone-else"}}}
	cs := fakeKube()
	if _, err := cs.CoreV1().Pods("default").Create(context.Background(), stranger, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := Objects{Kube: cs}.Apply(context.Background(), &r)
	var foreign *ForeignError
	if !errors.As(err, &foreign) || foreign.Name != r.DriverPod.Name {
		t.Fatalf("err = %v, want a *ForeignError naming the driver pod", err)
	}
	got, _ := cs.CoreV1().Pods("default").Get(context.Background(), r.DriverPod.Name, metav1.GetOptions{})
	if got.Labels["app"] != "someone-else" {
		t.Errorf("the stranger's pod was changed: %v", got.Labels)
	}
}

// staleMapper is a discovery cache that learnt of a CRD only after Reset, as a worker's does
// when Volcano is installed after it started.
type staleMapper struct {
	meta.RESTMapper
	resets int
}

func (m *staleMapper) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	if m.resets == 0 {
		return nil, &meta.NoKindMatchError{GroupKind: gk, SearchedVersions: versions}
	}
	return &meta.RESTMapping{Resource: schema.GroupVersionResource{Group: gk.Group, Version: versions[0], Resource: "podgroups"},
		GroupVersionKind: gk.WithVersion(versions[0]), Scope: meta.RESTScopeNamespace}, nil
}

func (m *staleMapper) Reset() { m.resets++ }

func TestApplyFindsACRDInstalledAfterTheWorkerStarted(t *testing.T) {
	r := renderExample(t, "wf-1")
	pg := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "scheduling.volcano.sh/v1beta1", "kind": "PodGroup",
		"metadata": map[string]any{"name": r.Names.ResourcePrefix + "-pg", "namespace": "default", "labels": map[string]any{
			job.LabelRun: r.DriverPod.Labels[job.LabelRun], job.LabelAttempt: r.DriverPod.Labels[job.LabelAttempt]}},
	}}
	r.Extra = []*unstructured.Unstructured{pg}
	gvr := schema.GroupVersionResource{Group: "scheduling.volcano.sh", Version: "v1beta1", Resource: "podgroups"}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{gvr: "PodGroupList"})
	mapper := &staleMapper{}
	if _, err := (Objects{Kube: fakeKube(), Dynamic: dyn, Mapper: mapper}).Apply(context.Background(), &r); err != nil {
		t.Fatalf("apply with a PodGroup whose CRD came after the worker: %v", err)
	}
	if mapper.resets != 1 {
		t.Errorf("mapper reset %d times, want once", mapper.resets)
	}
	if _, err := dyn.Resource(gvr).Namespace("default").Get(context.Background(), pg.GetName(), metav1.GetOptions{}); err != nil {
		t.Errorf("PodGroup not created: %v", err)
	}
}
