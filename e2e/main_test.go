// Package e2e runs Spark jobs end to end on the local stack: a real Temporal server, a real
// kube-apiserver with etcd, scheduler and controller-manager, kwok nodes and the driver
// emulator. `make test` starts the stack and sets KINDLING_E2E=1; without it these tests
// say so and run nothing.
package e2e

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/kindling-dev/kindling/activities"
	"github.com/kindling-dev/kindling/k8s/cluster"
	"github.com/kindling-dev/kindling/workflows"
)

var stack struct {
	kube      *cluster.Clients
	temporal  client.Client
	taskQueue string // the in-process worker's queue: tests never meet another worker
	tools     map[string]string
	workerBin string
	cliBin    string // the kindling CLI, run as a user runs it
}

func TestMain(m *testing.M) {
	if os.Getenv("KINDLING_E2E") != "1" {
		fmt.Println("e2e: KINDLING_E2E is not 1; these tests need the local stack (`make test` starts it)")
		os.Exit(0)
	}
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e setup:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var err error
	if stack.tools, err = toolPaths(); err != nil {
		return 0, err
	}
	if stack.kube, err = cluster.Connect(""); err != nil {
		return 0, err
	}
	if _, err := stack.kube.Kube.Discovery().ServerVersion(); err != nil {
		return 0, fmt.Errorf("the local stack's API server does not answer (KUBECONFIG=%s): %w", os.Getenv("KUBECONFIG"), err)
	}
	addr := os.Getenv("TEMPORAL_ADDRESS")
	if addr == "" {
		addr = "127.0.0.1:7233"
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if stack.temporal, err = client.Dial(client.Options{HostPort: addr, Logger: tlog.NewStructuredLogger(logger)}); err != nil {
		return 0, fmt.Errorf("Temporal at %s: %w", addr, err)
	}
	defer stack.temporal.Close()

	dir, err := os.MkdirTemp("", "kindling-e2e")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	stack.workerBin = filepath.Join(dir, "kindling-worker")
	if out, err := exec.Command("go", "build", "-o", stack.workerBin, "../worker").CombinedOutput(); err != nil {
		return 0, fmt.Errorf("build kindling-worker: %v\n%s", err, out)
	}

	stack.cliBin = filepath.Join(dir, "kindling")
	if out, err := exec.Command("go", "build", "-o", stack.cliBin, "../starter").CombinedOutput(); err != nil {
		return 0, fmt.Errorf("build kindling: %v\n%s", err, out)
	}

	// The in-process worker has the rights deploy/base/rbac.yaml grants, no more.
	wk, err := asDeployedWorker(stack.kube)
	if err != nil {
		return 0, err
	}
	pods, err := cluster.NewPodWatch(wk.Kube, "", 30*time.Second)
	if err != nil {
		return 0, err
	}
	syncCtx, cancelSync := context.WithTimeout(ctx, time.Minute)
	err = pods.Start(ctx, syncCtx)
	cancelSync()
	if err != nil {
		return 0, err
	}
	stack.taskQueue = fmt.Sprintf("kindling-e2e-%d", os.Getpid())
	// Progress reaches Temporal every 2s (the worker's default is 5s) so tests see it soon.
	w := worker.New(stack.temporal, stack.taskQueue, worker.Options{
		MaxHeartbeatThrottleInterval: 2 * time.Second, DefaultHeartbeatThrottleInterval: 2 * time.Second,
	})
	workflows.Register(w)
	acts := &activities.Activities{
		Cluster: cluster.Objects{Kube: wk.Kube, Dynamic: wk.Dynamic, Mapper: wk.Mapper},
		Pods:    pods, HTTP: &http.Client{Timeout: time.Minute},
		Temporal: stack.temporal,
	}
	w.RegisterActivity(acts)
	// As the worker does: kept objects go once their time to live ends.
	go activities.ExpireEvery(ctx, acts, 5*time.Second, logger)
	if err := w.Start(); err != nil {
		return 0, fmt.Errorf("start in-process worker: %w", err)
	}
	defer w.Stop()
	return m.Run(), nil
}

// toolPaths reads the built servers' paths (the temporal CLI among them) from the stack.
func toolPaths() (map[string]string, error) {
	out, err := exec.Command("bash", "../dev/build-tools.sh", "paths").Output()
	if err != nil {
		return nil, fmt.Errorf("dev/build-tools.sh paths: %w", err)
	}
	paths := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			paths[k] = v
		}
	}
	return paths, nil
}
