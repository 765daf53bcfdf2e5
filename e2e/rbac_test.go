package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/kindling-dev/kindling/k8s/cluster"
)

// workerIdentity is the service account deploy/base/rbac.yaml grants the worker's rights to.
const workerIdentity = "system:serviceaccount:kindling:kindling-worker"

// asDeployedWorker applies deploy/base/rbac.yaml (as the stack's admin) and returns clients that
// act as the worker's service account, so every test runs with exactly those rights.
func asDeployedWorker(admin *cluster.Clients) (*cluster.Clients, error) {
	data, err := os.ReadFile("../deploy/base/rbac.yaml")
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	for i, doc := range bytes.Split(data, []byte("\n---\n")) {
		var obj unstructured.Unstructured
		if err := yaml.Unmarshal(doc, &obj.Object); err != nil {
			return nil, fmt.Errorf("deploy/base/rbac.yaml document %d: %w", i+1, err)
		}
		if len(obj.Object) == 0 {
			continue
		}
		gvk := obj.GroupVersionKind()
		m, err := admin.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return nil, fmt.Errorf("deploy/base/rbac.yaml %s: %w", gvk.Kind, err)
		}
		_, err = admin.Dynamic.Resource(m.Resource).Namespace(obj.GetNamespace()).Apply(ctx, obj.GetName(), &obj,
			metav1.ApplyOptions{FieldManager: "kindling-e2e", Force: true})
		if err != nil {
			return nil, fmt.Errorf("apply deploy/base/rbac.yaml %s %s: %w", gvk.Kind, obj.GetName(), err)
		}
	}
	cfg := rest.CopyConfig(admin.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: workerIdentity}
	return cluster.ConnectConfig(cfg)
}
