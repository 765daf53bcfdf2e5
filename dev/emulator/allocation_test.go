package emulator

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
)

// runEmulator puts a running driver and its conf in a fake cluster and runs an emulator on
// it until the test ends.
func runEmulator(t *testing.T, driver *corev1.Pod, props map[string]string) kubernetes.Interface {
	t.Helper()
	driver.Status = runningStatus()
	objs := []runtime.Object{driver}
	for _, cm := range confMaps(driver, testTemplate, props) {
		objs = append(objs, cm)
	}
	client := fake.NewClientset(objs...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- New(client, Config{Namespace: "ns", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}).Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return client
}

// kwok plays kwok for the test's executors: it runs every pending one, and remembers the
// name of every executor it saw.
type kwok struct {
	mu   sync.Mutex
	seen map[string]bool
}

func playKwok(t *testing.T, client kubernetes.Interface) *kwok {
	k := &kwok{seen: map[string]bool{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			list, err := client.CoreV1().Pods("ns").List(ctx, metav1.ListOptions{LabelSelector: LabelRole + "=" + RoleExecutor})
			if err == nil {
				for i := range list.Items {
					p := &list.Items[i]
					k.mu.Lock()
					k.seen[p.Name] = true
					k.mu.Unlock()
					if p.Status.Phase == "" || p.Status.Phase == corev1.PodPending {
						p.Status = runningStatus()
						_, _ = client.CoreV1().Pods("ns").UpdateStatus(ctx, p, metav1.UpdateOptions{})
					}
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return k
}

func (k *kwok) executors() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	names := make([]string, 0, len(k.seen))
	for n := range k.seen {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func getPod(t *testing.T, client kubernetes.Interface, name string) *corev1.Pod {
	t.Helper()
	p, err := client.CoreV1().Pods("ns").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get %s: %v", name, err)
	}
	return p
}

// waitPodCond polls pod name until cond holds.
func waitPodCond(t *testing.T, client kubernetes.Interface, name, what string, cond func(*corev1.Pod) bool) *corev1.Pod {
	t.Helper()
	var last *corev1.Pod
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		p, err := client.CoreV1().Pods("ns").Get(context.Background(), name, metav1.GetOptions{})
		if err == nil {
			if last = p; cond(p) {
				return p
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("pod %s never %s; last: %s", name, what, describe(last))
	return nil
}

func ended(p *corev1.Pod) bool { return isTerminal(p) }

// ExecutorPodsAllocator replaces a failed executor with a new one, with the next id after the
// largest used; the driver runs on and ends as its annotations say.
func TestFailedExecutorIsReplacedByTheNextID(t *testing.T) {
	driver := newDriver("ns", "spark-pi-driver").annotate(AnnotationDuration, "1m", AnnotationExecutorFailures, "1").build()
	client := runEmulator(t, driver, map[string]string{"spark.executor.instances": "2"})
	playKwok(t, client)

	failed := waitPodCond(t, client, "spark-pi-exec-1", "failed", phaseIs(corev1.PodFailed))
	if term := terminated(failed); term == nil || term.ExitCode != 1 || term.Reason != "Error" {
		t.Errorf("exec-1 ended %s, want exit code 1, Error", describe(failed))
	}
	repl := waitPodCond(t, client, "spark-pi-exec-3", "running", phaseIs(corev1.PodRunning))
	if id := repl.Labels[LabelExecID]; id != "3" {
		t.Errorf("replacement's %s = %q, want 3", LabelExecID, id)
	}
	if env := repl.Spec.Containers[0].Env; !slices.Contains(env, corev1.EnvVar{Name: "SPARK_EXECUTOR_ID", Value: "3"}) {
		t.Errorf("replacement's env %v lacks SPARK_EXECUTOR_ID=3", env)
	}

	// Two run, as asked; the failed one stays until the app ends, and nothing more comes.
	time.Sleep(500 * time.Millisecond)
	if got, want := executorNames(t, client), []string{"spark-pi-exec-1", "spark-pi-exec-2", "spark-pi-exec-3"}; !slices.Equal(sorted(got), want) {
		t.Errorf("executors %v, want %v", got, want)
	}
	if d := getPod(t, client, "spark-pi-driver"); d.Status.Phase != corev1.PodRunning {
		t.Errorf("driver %s after one executor failure, want still Running", describe(d))
	}
}

// Past spark.executor.maxNumFailures the driver exits at once with
// SparkExitCode.EXCEED_MAX_EXECUTOR_FAILURES, long before its duration.
func TestMaxNumFailuresEndsTheApp(t *testing.T) {
	driver := newDriver("ns", "spark-pi-driver").annotate(AnnotationDuration, "1m", AnnotationExecutorFailures, "2").build()
	client := runEmulator(t, driver, map[string]string{"spark.executor.instances": "2", "spark.executor.maxNumFailures": "1"})
	playKwok(t, client)

	d := waitPodCond(t, client, "spark-pi-driver", "ended", ended)
	term := terminated(d)
	if d.Status.Phase != corev1.PodFailed || term == nil || term.ExitCode != 11 || term.Reason != "Error" {
		t.Fatalf("driver ended %s; want Failed with exit code 11", describe(d))
	}
	if want := "Max number of executor failures (1) reached"; term.Message != want {
		t.Errorf("termination message %q, want %q", term.Message, want)
	}
}

// With every executor OOMKilled, Spark 4.0 replaces them until the failures exceed the default
// limit, max(3, 2 × spark.executor.instances), then exits 11.
func TestOOMKilledExecutorsEndTheAppPastTheDefaultLimit(t *testing.T) {
	driver := newDriver("ns", "spark-pi-driver").annotate(AnnotationDuration, "1m", AnnotationExecutorOOMBelow, "64Gi").build()
	client := runEmulator(t, driver, map[string]string{"spark.executor.instances": "1"})
	k := playKwok(t, client)

	d := waitPodCond(t, client, "spark-pi-driver", "ended", ended)
	if term := terminated(d); term == nil || term.ExitCode != 11 {
		t.Fatalf("driver ended %s; want exit code 11", describe(d))
	}
	// 4 failures exceed 3; each executor was OOMKilled, deleted and replaced by the next id.
	want := []string{"spark-pi-exec-1", "spark-pi-exec-2", "spark-pi-exec-3", "spark-pi-exec-4"}
	if got := k.executors(); !slices.Equal(got, want) {
		t.Errorf("executors seen %v, want %v", got, want)
	}
}

// Before Spark 3.5 the driver has no failure limit: it keeps replacing failed executors and
// ends as its annotations say.
func TestSpark34HasNoFailureLimit(t *testing.T) {
	driver := newDriver("ns", "spark-pi-driver").annotate(AnnotationDuration, "2s", AnnotationExecutorFailures, "2").build()
	driver.Labels[LabelSparkVersion] = "3.4.3"
	client := runEmulator(t, driver, map[string]string{"spark.executor.instances": "2", "spark.executor.maxNumFailures": "1"})
	k := playKwok(t, client)

	d := waitPodCond(t, client, "spark-pi-driver", "ended", ended)
	if term := terminated(d); d.Status.Phase != corev1.PodSucceeded || term == nil || term.ExitCode != 0 {
		t.Fatalf("driver ended %s; want Succeeded, exit code 0, as annotated", describe(d))
	}
	want := []string{"spark-pi-exec-1", "spark-pi-exec-2", "spark-pi-exec-3", "spark-pi-exec-4"}
	if got := k.executors(); !slices.Equal(got, want) {
		t.Errorf("executors seen %v, want %v (two failed, two replacements)", got, want)
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
