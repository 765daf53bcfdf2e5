package cluster

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kindling-dev/kindling/k8s/job"
)

func sparkPod(name, appID, role string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "jobs",
		Labels: map[string]string{job.LabelSparkAppID: appID, job.LabelSparkRole: role}}}
}

// One informer serves every job: each supervisor sees its own app's pods and is woken by
// their changes only.
func TestPodWatchIndexesByAppAndWakesOnlyThatApp(t *testing.T) {
	cs := fake.NewClientset(
		sparkPod("a-driver", "spark-a", job.SparkRoleDriver),
		sparkPod("a-exec-1", "spark-a", job.SparkRoleExecutor),
		sparkPod("b-driver", "spark-b", job.SparkRoleDriver),
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "not-spark", Namespace: "jobs"}},
	)
	w, err := NewPodWatch(cs, "", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wait, cancelWait := context.WithTimeout(ctx, 10*time.Second)
	defer cancelWait()
	if err := w.Start(ctx, wait); err != nil {
		t.Fatal(err)
	}
	if got := len(w.AppPods("jobs", "spark-a")); got != 2 {
		t.Errorf("app a has %d pods in the cache, want 2", got)
	}
	if got := w.Executors("jobs", "spark-a"); len(got) != 1 || got[0].Name != "a-exec-1" {
		t.Errorf("app a executors = %v, want [a-exec-1]", got)
	}
	if w.Pod("jobs", "not-spark") != nil {
		t.Error("a pod without Spark's app label is in the cache; the watch should not carry it")
	}

	wakeA, stopA := w.Subscribe("jobs", "spark-a")
	defer stopA()
	wakeB, stopB := w.Subscribe("jobs", "spark-b")
	defer stopB()
	if _, err := cs.CoreV1().Pods("jobs").Create(ctx, sparkPod("a-exec-2", "spark-a", job.SparkRoleExecutor), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-wakeA:
	case <-time.After(5 * time.Second):
		t.Fatal("app a's supervisor was not woken by its new executor")
	}
	select {
	case <-wakeB:
		t.Error("app b's supervisor was woken by app a's executor")
	case <-time.After(200 * time.Millisecond):
	}
}

func startWatch(t *testing.T, cs *fake.Clientset) *PodWatch {
	t.Helper()
	w, err := NewPodWatch(cs, "", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	wait, cancelWait := context.WithTimeout(ctx, 10*time.Second)
	defer cancelWait()
	if err := w.Start(ctx, wait); err != nil {
		t.Fatal(err)
	}
	return w
}

// Spark deletes a failed executor at once, often before a supervisor looks at the cache:
// the watch remembers it from the events that passed.
func TestPodWatchRemembersAnExecutorDeletedRightAfterItFailed(t *testing.T) {
	cs := fake.NewClientset()
	w := startWatch(t, cs)
	wake, stop := w.Subscribe("jobs", "spark-a")
	defer stop()
	ctx := context.Background()
	exec := sparkPod("a-exec-1", "spark-a", job.SparkRoleExecutor)
	exec.UID = "uid-1"
	if _, err := cs.CoreV1().Pods("jobs").Create(ctx, exec, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	exec.Status = corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{{Name: "spark-kubernetes-executor",
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled"}}}}}
	if _, err := cs.CoreV1().Pods("jobs").UpdateStatus(ctx, exec, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cs.CoreV1().Pods("jobs").Delete(ctx, exec.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(5 * time.Second)
	for len(w.LostExecutors("jobs", "spark-a")) == 0 || w.Pod("jobs", "a-exec-1") != nil {
		select {
		case <-wake:
		case <-deadline:
			t.Fatalf("lost executors %v after the executor failed and was deleted", w.LostExecutors("jobs", "spark-a"))
		}
	}
	if got := w.LostExecutors("jobs", "spark-a"); !got["uid-1"] {
		t.Errorf("lost executors = %v, want uid-1 OOMKilled", got)
	}
}

// An attempt's executors can fail and be deleted before its supervisor subscribes (the
// emulator, like a fast OOM, does it within milliseconds of the driver running): the loss is
// kept until the driver itself is deleted.
func TestPodWatchRemembersLossesBeforeTheSupervisorComes(t *testing.T) {
	ctx := context.Background()
	driver := sparkPod("b-driver", "spark-b", job.SparkRoleDriver)
	cs := fake.NewClientset(driver)
	w := startWatch(t, cs)
	exec := sparkPod("b-exec-1", "spark-b", job.SparkRoleExecutor)
	exec.UID = "uid-b1"
	if _, err := cs.CoreV1().Pods("jobs").Create(ctx, exec, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	exec.Status = corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{{Name: "spark-kubernetes-executor",
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled"}}}}}
	if _, err := cs.CoreV1().Pods("jobs").UpdateStatus(ctx, exec, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cs.CoreV1().Pods("jobs").Delete(ctx, exec.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool { return w.LostExecutors("jobs", "spark-b")["uid-b1"] }, "the loss seen with no supervisor subscribed")
	if err := cs.CoreV1().Pods("jobs").Delete(ctx, driver.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool { return len(w.LostExecutors("jobs", "spark-b")) == 0 }, "the losses forgotten with the driver")
}

func waitUntil(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The cache keeps only what supervision reads, so ten thousand executors fit a worker.
func TestPodWatchKeepsSlimPods(t *testing.T) {
	exec := sparkPod("a-exec-1", "spark-a", job.SparkRoleExecutor)
	exec.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubelet"}}
	exec.Annotations = map[string]string{"big": strings.Repeat("x", 4096)}
	exec.Spec.Volumes = []corev1.Volume{{Name: "spark-local-dir-1"}}
	exec.Spec.Containers = []corev1.Container{{Name: "spark-kubernetes-executor", Image: "spark:4",
		Env: []corev1.EnvVar{{Name: "SPARK_EXECUTOR_ID", Value: "1"}}}}
	driver := sparkPod("a-driver", "spark-a", job.SparkRoleDriver)
	driver.Spec.Volumes = []corev1.Volume{{Name: "spark-conf-volume-driver"}}
	w := startWatch(t, fake.NewClientset(exec, driver))

	e := w.Pod("jobs", "a-exec-1")
	if e == nil || len(e.ManagedFields) > 0 || len(e.Annotations) > 0 || len(e.Spec.Volumes) > 0 || len(e.Spec.Containers[0].Env) > 0 {
		t.Errorf("cached executor keeps what supervision never reads: %+v", e)
	}
	if e != nil && e.Spec.Containers[0].Image != "spark:4" {
		t.Error("the executor's container lost its name or image")
	}
	if d := w.Pod("jobs", "a-driver"); d == nil || len(d.Spec.Volumes) != 1 {
		t.Error("the driver lost the volumes its missing-config check reads")
	}
}

// BenchmarkPodWatchLook is one supervisor's look at its app (driver and executors) while
// the worker follows 1 or 1000 jobs. The index keeps a look's cost flat: compare the two
// sub-benchmarks' ns/op in the same run.
func BenchmarkPodWatchLook(b *testing.B) {
	for _, jobs := range []int{1, 1000} {
		b.Run(fmt.Sprintf("jobs=%d", jobs), func(b *testing.B) {
			cs := fake.NewClientset()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			for j := 0; j < jobs; j++ {
				app := fmt.Sprintf("spark-%032d", j)
				for _, p := range []*corev1.Pod{
					sparkPod(fmt.Sprintf("j%d-driver", j), app, job.SparkRoleDriver),
					sparkPod(fmt.Sprintf("j%d-exec-1", j), app, job.SparkRoleExecutor),
					sparkPod(fmt.Sprintf("j%d-exec-2", j), app, job.SparkRoleExecutor),
				} {
					if _, err := cs.CoreV1().Pods("jobs").Create(ctx, p, metav1.CreateOptions{}); err != nil {
						b.Fatal(err)
					}
				}
			}
			w, err := NewPodWatch(cs, "", time.Hour)
			if err != nil {
				b.Fatal(err)
			}
			if err := w.Start(ctx, ctx); err != nil {
				b.Fatal(err)
			}
			app := fmt.Sprintf("spark-%032d", jobs/2)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if w.Pod("jobs", fmt.Sprintf("j%d-driver", jobs/2)) == nil || len(w.Executors("jobs", app)) != 2 {
					b.Fatal("the app's pods are not in the cache")
				}
			}
		})
	}
}
