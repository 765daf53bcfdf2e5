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
	"fmt"
	"os"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kindling-dev/kindling/controller"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "kindling-devctl:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: kindling-devctl ping | nodes-ready N | nodes")
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
