package e2e

import (
	"context"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// What a cluster admin applies: `kubectl apply --dry-run=server -k deploy/` (and the local
// overlay) — kustomize builds it and the API server accepts every object.
func TestDeployManifestsAreAccepted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for dir, want := range map[string]struct {
		replicas   int32
		image      string
		controller bool
	}{
		"../deploy/base":           {2, "ghcr.io/kindling-dev/kindling:latest", false},
		"../deploy/overlays/local": {1, "kindling:dev", false},
		"../deploy/controller":     {2, "ghcr.io/kindling-dev/kindling:latest", true},
	} {
		t.Run(dir, func(t *testing.T) {
			res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
			if err != nil {
				t.Fatalf("kustomize build %s: %v", dir, err)
			}
			var deployment *appsv1.Deployment
			for _, r := range res.Resources() {
				obj, err := r.Map()
				if err != nil {
					t.Fatal(err)
				}
				u := unstructuredFrom(obj)
				gvk := u.GroupVersionKind()
				m, err := stack.kube.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
				if err != nil {
					t.Fatalf("%s %s: %v", gvk.Kind, u.GetName(), err)
				}
				_, err = stack.kube.Dynamic.Resource(m.Resource).Namespace(u.GetNamespace()).Apply(ctx, u.GetName(), u,
					metav1.ApplyOptions{FieldManager: "kindling-e2e", Force: true, DryRun: []string{metav1.DryRunAll}})
				if err != nil {
					t.Errorf("the API server refuses %s %s/%s: %v", gvk.Kind, u.GetNamespace(), u.GetName(), err)
				}
				if gvk.Kind == "Deployment" {
					deployment = &appsv1.Deployment{}
					if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj, deployment); err != nil {
						t.Fatal(err)
					}
				}
			}
			if deployment == nil {
				t.Fatal("no Deployment")
			}
			c := deployment.Spec.Template.Spec.Containers[0]
			if *deployment.Spec.Replicas != want.replicas || c.Image != want.image {
				t.Errorf("replicas %d, image %s; want %d, %s", *deployment.Spec.Replicas, c.Image, want.replicas, want.image)
			}
			if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" || c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
				t.Errorf("probes %v %v", c.LivenessProbe, c.ReadinessProbe)
			}
			if slices.Contains(c.Args, "--controller") != want.controller {
				t.Errorf("args %v: controller mode should be %v", c.Args, want.controller)
			}
			if deployment.Spec.Template.Spec.ServiceAccountName != "kindling-worker" || c.Resources.Requests.Memory().IsZero() {
				t.Errorf("service account %q, requests %v", deployment.Spec.Template.Spec.ServiceAccountName, c.Resources.Requests)
			}
		})
	}
}

func unstructuredFrom(m map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: m}
}
