package emulator

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
)

// The fake clientset stands in for the API server; the test plays kwok by marking pods
// Running, so it controls when a batch stops being pending.
func TestAllocationWaitsForEachBatch(t *testing.T) {
	driver := newDriver("ns", "spark-pi-driver").annotate(AnnotationDuration, "1m").build()
	driver.Status = runningStatus()
	objs := []runtime.Object{driver}
	for _, cm := range confMaps(driver, testTemplate, map[string]string{
		"spark.executor.instances":               "5",
		"spark.kubernetes.allocation.batch.size": "2",
	}) {
		objs = append(objs, cm)
	}
	client := fake.NewClientset(objs...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- New(client, Config{Namespace: "ns", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}).Run(ctx)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	for _, want := range []int{2, 4, 5} {
		names := waitExecutorCount(t, client, want)
		// While the batch is pending, no more executors come.
		time.Sleep(300 * time.Millisecond)
		if got := executorNames(t, client); len(got) != want {
			t.Fatalf("executors while a batch of %d is pending: %v, want %d", want, got, want)
		}
		for _, name := range names {
			markRunning(t, client, name)
		}
	}
	time.Sleep(300 * time.Millisecond)
	if got := executorNames(t, client); len(got) != 5 {
		t.Errorf("executors after all ran: %v, want spark.executor.instances=5", got)
	}
}

func runningStatus() corev1.PodStatus {
	return corev1.PodStatus{
		Phase: corev1.PodRunning, PodIP: "10.0.0.9",
		ContainerStatuses: []corev1.ContainerStatus{{
			Name: DriverContainerName, Ready: true,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}},
		}},
	}
}

func executorNames(t *testing.T, client kubernetes.Interface) []string {
	t.Helper()
	list, err := client.CoreV1().Pods("ns").List(context.Background(), metav1.ListOptions{LabelSelector: LabelRole + "=" + RoleExecutor})
	if err != nil {
		t.Fatalf("list executors: %v", err)
	}
	var names []string
	for _, p := range list.Items {
		names = append(names, p.Name)
	}
	return names
}

func waitExecutorCount(t *testing.T, client kubernetes.Interface, n int) []string {
	t.Helper()
	var names []string
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if names = executorNames(t, client); len(names) == n {
			return names
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("executors = %v, want %d", names, n)
	return nil
}

func markRunning(t *testing.T, client kubernetes.Interface, name string) {
	t.Helper()
	pod, err := client.CoreV1().Pods("ns").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get %s: %v", name, err)
	}
	if pod.Status.Phase == corev1.PodRunning {
		return
	}
	pod.Status = runningStatus()
	if _, err := client.CoreV1().Pods("ns").UpdateStatus(context.Background(), pod, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("mark %s running: %v", name, err)
	}
}
