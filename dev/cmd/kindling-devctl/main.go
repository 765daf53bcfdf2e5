// Command kindling-devctl answers the local stack's questions about its cluster, so the
// stack scripts need no kubectl:
//
//	kindling-devctl ping            exit 0 when the API server answers /readyz
//	kindling-devctl nodes-ready N   exit 0 when at least N nodes are Ready
//	kindling-devctl nodes           one line per node: name, ready, cpu, memory
//	kindling-devctl setup [CRD_DIR] create what the examples expect: service accounts, and the CRDs in CRD_DIR
//	                                `spark` and `spark-operator-spark` in namespace default
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/kindling-dev/kindling/controller"
	"github.com/kindling-dev/kindling/k8s/cluster"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "kindling-devctl:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: kindling-devctl ping | nodes-ready N | nodes | setup [CRD_DIR] | apply FILE... | get RESOURCE [NAMESPACE]")
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		clientcmd.NewDefaultClientConfigLoadingRules(), nil).ClientConfig()
	if err != nil {
		return fmt.Errorf("load kubeconfig: %w", err)
	}
	cfg.Timeout = 5 * time.Second
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	switch args[0] {
	case "apply":
		return apply(ctx, cfg, args[1:])
	case "get":
		if len(args) < 2 {
			return fmt.Errorf("usage: kindling-devctl get RESOURCE [NAMESPACE]")
		}
		ns := "default"
		if len(args) > 2 {
			ns = args[2]
		}
		return get(ctx, cfg, args[1], ns)
	case "ping":
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			return fmt.Errorf("GET /readyz: %w", err)
		}
		fmt.Println(string(body))
		return nil
	case "nodes-ready":
		if len(args) != 2 {
			return fmt.Errorf("usage: kindling-devctl nodes-ready N")
		}
		want, err := strconv.Atoi(args[1])
		if err != nil {
			return fmt.Errorf("nodes-ready: %q is not a number", args[1])
		}
		nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return fmt.Errorf("list nodes: %w", err)
		}
		ready := 0
		for _, n := range nodes.Items {
			if nodeReady(&n) {
				ready++
			}
		}
		if ready < want {
			return fmt.Errorf("%d of %d nodes ready", ready, want)
		}
		return nil
	case "nodes":
		nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return fmt.Errorf("list nodes: %w", err)
		}
		for _, n := range nodes.Items {
			fmt.Printf("%-14s ready=%-5v cpu=%s memory=%s\n", n.Name, nodeReady(&n),
				n.Status.Allocatable.Cpu(), n.Status.Allocatable.Memory())
		}
		return nil
	case "setup":
		// The operator's Helm chart creates spark-operator-spark; the published examples use it.
		for _, name := range []string{"spark", "spark-operator-spark"} {
			sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}}
			_, err := cs.CoreV1().ServiceAccounts("default").Create(ctx, sa, metav1.CreateOptions{})
			if err != nil && !apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("create service account default/%s: %w", name, err)
			}
		}
		// SparkApplication and ScheduledSparkApplication, for controller mode.
		if len(args) > 1 {
			if err := controller.InstallCRDs(ctx, cfg, args[1]); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown command %q", args[0])
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// apply is `kubectl apply --server-side -f FILE` for the local stack, which has no kubectl:
// every document of every file, in its own namespace or default.
func apply(ctx context.Context, cfg *rest.Config, files []string) error {
	kc, err := cluster.ConnectConfig(cfg)
	if err != nil {
		return err
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		for _, doc := range strings.Split(string(data), "\n---") {
			u := &unstructured.Unstructured{}
			if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
			if len(u.Object) == 0 {
				continue
			}
			gvk := u.GroupVersionKind()
			m, err := kc.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
			if err != nil {
				return fmt.Errorf("%s: %s: %w", f, gvk.Kind, err)
			}
			var ri dynamic.ResourceInterface = kc.Dynamic.Resource(m.Resource)
			if m.Scope.Name() == meta.RESTScopeNameNamespace {
				if u.GetNamespace() == "" {
					u.SetNamespace("default")
				}
				ri = kc.Dynamic.Resource(m.Resource).Namespace(u.GetNamespace())
			}
			if _, err := ri.Apply(ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: "kubectl", Force: true}); err != nil {
				return fmt.Errorf("apply %s %s: %w", gvk.Kind, u.GetName(), err)
			}
			fmt.Printf("%s/%s serverside-applied\n", strings.ToLower(gvk.Kind), u.GetName())
		}
	}
	return nil
}

// get is `kubectl get RESOURCE -n NAMESPACE`: the API server's table, with a CRD's columns.
func get(ctx context.Context, cfg *rest.Config, resource, ns string) error {
	kc, err := cluster.ConnectConfig(cfg)
	if err != nil {
		return err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return err
	}
	gvr, err := restmapper.NewShortcutExpander(kc.Mapper, dc, nil).ResourceFor(schema.GroupVersionResource{Resource: resource})
	if err != nil {
		return err
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return err
	}
	prefix := "/apis/" + gvr.Group + "/" + gvr.Version
	if gvr.Group == "" {
		prefix = "/api/" + gvr.Version
	}
	url := strings.TrimSuffix(cfg.Host, "/") + prefix + "/namespaces/" + ns + "/" + gvr.Resource
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json;as=Table;g=meta.k8s.io;v=v1")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var t metav1.Table
	if err := json.NewDecoder(resp.Body).Decode(&t); err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 3, ' ', 0)
	var head []string
	for _, c := range t.ColumnDefinitions {
		head = append(head, strings.ToUpper(c.Name))
	}
	fmt.Fprintln(w, strings.Join(head, "\t"))
	for _, r := range t.Rows {
		var cells []string
		for _, c := range r.Cells {
			if c == nil {
				c = ""
			}
			cells = append(cells, fmt.Sprint(c))
		}
		fmt.Fprintln(w, strings.Join(cells, "\t"))
	}
	return w.Flush()
}
