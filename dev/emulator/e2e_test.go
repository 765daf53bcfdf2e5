package emulator

// Integration tests against the local stack's real API server, controller-manager, scheduler
// and kwok. They run when KINDLING_E2E=1 (KUBECONFIG names the cluster, e.g.
// .dev/kubeconfig) and fail, not skip, when that cluster cannot be reached. Each test gets a
// fresh namespace labelled kindling.dev/emulator=test, which the stack's own emulator skips,
// and runs its own emulator in-process, watching only that namespace.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

type e2e struct {
	t      *testing.T
	client kubernetes.Interface
	ns     string
}

var (
	e2eOnce   sync.Once
	e2eShared kubernetes.Interface
	e2eErr    error
)

// e2eClient connects to the stack once per test binary.
func e2eClient(t *testing.T) kubernetes.Interface {
	t.Helper()
	if os.Getenv("KINDLING_E2E") != "1" {
		t.Skip("integration test: set KINDLING_E2E=1 and KUBECONFIG=.dev/kubeconfig (make dev-up)")
	}
	e2eOnce.Do(func() {
		path := os.Getenv("KUBECONFIG")
		if path == "" {
			e2eErr = fmt.Errorf("KINDLING_E2E=1 but KUBECONFIG is empty")
			return
		}
		cfg, err := clientcmd.BuildConfigFromFlags("", path)
		if err != nil {
			e2eErr = fmt.Errorf("load kubeconfig %s: %w", path, err)
			return
		}
		cfg.QPS, cfg.Burst = 50, 100
		client, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			e2eErr = fmt.Errorf("client for %s: %w", cfg.Host, err)
			return
		}
		if _, err := client.Discovery().ServerVersion(); err != nil {
			e2eErr = fmt.Errorf("reach the API server %s from %s: %w", cfg.Host, path, err)
			return
		}
		nodes, err := client.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
		if err != nil {
			e2eErr = fmt.Errorf("list nodes: %w", err)
			return
		}
		if len(nodes.Items) == 0 {
			e2eErr = fmt.Errorf("the cluster at %s has no nodes: is kwok running?", cfg.Host)
			return
		}
		e2eShared = client
	})
	if e2eErr != nil {
		t.Fatalf("KINDLING_E2E=1 but the local stack is not usable: %v", e2eErr)
	}
	return e2eShared
}

// newE2E makes a fresh namespace and, unless noEmulator, runs an emulator on it until the
// test ends; then the namespace is deleted and the test fails if it does not go away.
func newE2E(t *testing.T, noEmulator ...bool) *e2e {
	t.Helper()
	client := e2eClient(t)
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	name := "emu-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	name = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, name)
	name = name[:min(len(name), 50)] + "-" + hex.EncodeToString(suffix)
	ctx := context.Background()
	_, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:   name,
		Labels: map[string]string{LabelNamespaceEmulator: NamespaceTestValue},
	}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := client.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete namespace %s: %v", name, err)
			return
		}
		err := poll(90*time.Second, func() (bool, error) {
			_, err := client.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return true, nil
			}
			return false, err
		})
		if err != nil {
			t.Errorf("namespace %s not gone after the test: %v", name, err)
		}
	})
	e := &e2e{t: t, client: client, ns: name}
	if len(noEmulator) == 0 || !noEmulator[0] {
		e.startEmulator(Config{Namespace: name})
	}
	return e
}

// startEmulator runs an emulator until the test ends (cleanups run last-in first-out, so
// it stops before the namespace is deleted). It returns a stop func for restart tests.
func (e *e2e) startEmulator(cfg Config) (stop func()) {
	if cfg.ImagePullBackOffAfter == 0 {
		cfg.ImagePullBackOffAfter = time.Second
	}
	tl := &testLog{t: e.t}
	cfg.Logger = slog.New(slog.NewTextHandler(tl, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- New(e.client, cfg).Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					e.t.Errorf("emulator Run: %v", err)
				}
			case <-time.After(30 * time.Second):
				e.t.Errorf("emulator did not stop within 30s of its context ending")
			}
			tl.mu.Lock()
			tl.done = true
			tl.mu.Unlock()
		})
	}
	e.t.Cleanup(stop)
	return stop
}

// testLog sends emulator logs to the test log, and drops them once the test is over.
type testLog struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// createDriver creates the conf ConfigMaps and the driver pod, as Kindling's Create stage would.
func (e *e2e) createDriver(b *driverBuilder, props map[string]string) *corev1.Pod {
	e.t.Helper()
	ctx := context.Background()
	b.pod.Namespace = e.ns
	b.pod.UID = ""
	for _, cm := range confMaps(b.pod, testTemplate, props) {
		if _, err := e.client.CoreV1().ConfigMaps(e.ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			e.t.Fatalf("create ConfigMap %s/%s: %v", e.ns, cm.Name, err)
		}
	}
	var created *corev1.Pod
	// A fresh namespace's default ServiceAccount appears a moment after it; admission
	// refuses pods until then.
	err := poll(30*time.Second, func() (bool, error) {
		var err error
		created, err = e.client.CoreV1().Pods(e.ns).Create(ctx, b.build(), metav1.CreateOptions{})
		if err != nil && strings.Contains(err.Error(), "serviceaccount") {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		e.t.Fatalf("create driver pod %s/%s: %v", e.ns, b.pod.Name, err)
	}
	return created
}

// waitPod polls the pod until cond holds, failing the test with what it last saw.
func (e *e2e) waitPod(name string, timeout time.Duration, what string, cond func(*corev1.Pod) bool) *corev1.Pod {
	e.t.Helper()
	var last *corev1.Pod
	err := poll(timeout, func() (bool, error) {
		p, err := e.client.CoreV1().Pods(e.ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		last = p
		return cond(p), nil
	})
	if err != nil {
		e.t.Fatalf("pod %s/%s never %s within %s: %v; last status: %s", e.ns, name, what, timeout, err, describe(last))
	}
	return last
}

func (e *e2e) executors() []corev1.Pod {
	e.t.Helper()
	list, err := e.client.CoreV1().Pods(e.ns).List(context.Background(), metav1.ListOptions{
		LabelSelector: labels.SelectorFromSet(labels.Set{LabelRole: RoleExecutor}).String(),
	})
	if err != nil {
		e.t.Fatalf("list executors in %s: %v", e.ns, err)
	}
	slices.SortFunc(list.Items, func(a, b corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	return list.Items
}

// waitExecutors polls until cond holds for the namespace's executors.
func (e *e2e) waitExecutors(timeout time.Duration, what string, cond func([]corev1.Pod) bool) []corev1.Pod {
	e.t.Helper()
	var last []corev1.Pod
	err := poll(timeout, func() (bool, error) {
		last = e.executors()
		return cond(last), nil
	})
	if err != nil {
		var seen []string
		for i := range last {
			seen = append(seen, last[i].Name+"="+describe(&last[i]))
		}
		e.t.Fatalf("executors in %s never %s within %s; saw %v", e.ns, what, timeout, seen)
	}
	return last
}

func poll(timeout time.Duration, f func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	var lastErr error
	for {
		ok, err := f()
		if ok && err == nil {
			return nil
		}
		if err != nil {
			lastErr = err
		}
		if time.Now().After(deadline) {
			if lastErr != nil {
				return fmt.Errorf("timed out; last error: %w", lastErr)
			}
			return fmt.Errorf("timed out")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func describe(p *corev1.Pod) string {
	if p == nil {
		return "<none>"
	}
	s := string(p.Status.Phase)
	if p.DeletionTimestamp != nil {
		s += " deleting"
	}
	for _, c := range p.Status.ContainerStatuses {
		switch {
		case c.State.Waiting != nil:
			s += fmt.Sprintf(" %s:waiting(%s)", c.Name, c.State.Waiting.Reason)
		case c.State.Running != nil:
			s += fmt.Sprintf(" %s:running", c.Name)
		case c.State.Terminated != nil:
			s += fmt.Sprintf(" %s:terminated(%d %s %q)", c.Name, c.State.Terminated.ExitCode, c.State.Terminated.Reason, c.State.Terminated.Message)
		}
	}
	if p.Status.Message != "" {
		s += fmt.Sprintf(" message=%q", p.Status.Message)
	}
	return s
}

func phaseIs(phase corev1.PodPhase) func(*corev1.Pod) bool {
	return func(p *corev1.Pod) bool { return p.Status.Phase == phase }
}

func terminated(p *corev1.Pod) *corev1.ContainerStateTerminated {
	for _, c := range p.Status.ContainerStatuses {
		if c.Name == DriverContainerName || c.Name == ExecutorContainerName {
			return c.State.Terminated
		}
	}
	return nil
}

func allRunning(n int) func([]corev1.Pod) bool {
	return func(ps []corev1.Pod) bool {
		if len(ps) != n {
			return false
		}
		for _, p := range ps {
			if p.Status.Phase != corev1.PodRunning {
				return false
			}
		}
		return true
	}
}

func none(ps []corev1.Pod) bool { return len(ps) == 0 }

// expectEnd waits for the driver to end and checks how.
func (e *e2e) expectEnd(name string, timeout time.Duration, phase corev1.PodPhase, exitCode int32, reason string) *corev1.Pod {
	e.t.Helper()
	p := e.waitPod(name, timeout, "ended", func(p *corev1.Pod) bool {
		return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
	})
	term := terminated(p)
	if p.Status.Phase != phase || term == nil || term.ExitCode != exitCode || term.Reason != reason {
		e.t.Fatalf("driver %s ended %s; want %s with exit code %d, reason %s", name, describe(p), phase, exitCode, reason)
	}
	return p
}

func TestE2EExecutorsAreSparkLikeAndGoAwayWhenTheAppEnds(t *testing.T) {
	e := newE2E(t)
	start := time.Now()
	driver := e.createDriver(newDriver(e.ns, "spark-pi-driver").annotate(AnnotationDuration, "8s"), map[string]string{
		"spark.executor.instances":                "3",
		"spark.kubernetes.allocation.batch.size":  "2",
		"spark.executor.memory":                   "512m",
		"spark.kubernetes.executor.label.team":    "data",
		"spark.kubernetes.executor.request.cores": "250m",
	})

	execs := e.waitExecutors(60*time.Second, "3 running", allRunning(3))
	wantNames := []string{"spark-pi-exec-1", "spark-pi-exec-2", "spark-pi-exec-3"}
	for i, p := range execs {
		if p.Name != wantNames[i] {
			t.Errorf("executor %d is %s, want %s", i, p.Name, wantNames[i])
		}
		wantLabels := map[string]string{
			LabelRole: RoleExecutor, LabelAppSelector: testAppID, LabelExecID: fmt.Sprint(i + 1),
			LabelResourceProfileID: "0", LabelAppName: "spark-pi", LabelSparkVersion: "4.0.0",
			"app.kubernetes.io/managed-by": "kindling", "kindling.dev/run": "r1", "kindling.dev/attempt": "1",
			"team": "data",
		}
		for k, v := range wantLabels {
			if p.Labels[k] != v {
				t.Errorf("executor %s label %s = %q, want %q", p.Name, k, p.Labels[k], v)
			}
		}
		ref := metav1.GetControllerOf(&p)
		if ref == nil || ref.Kind != "Pod" || ref.Name != driver.Name || ref.UID != driver.UID {
			t.Errorf("executor %s controller = %+v, want the driver pod %s (uid %s)", p.Name, ref, driver.Name, driver.UID)
		}
		c := p.Spec.Containers[0]
		if c.Name != ExecutorContainerName || !slices.Equal(c.Args, []string{"executor"}) {
			t.Errorf("executor %s container %s args %v, want %s [executor]", p.Name, c.Name, c.Args, ExecutorContainerName)
		}
		if mem := c.Resources.Limits[corev1.ResourceMemory]; mem.Cmp(resource.MustParse("896Mi")) != 0 {
			t.Errorf("executor %s memory limit = %s, want 896Mi (512m + 384Mi overhead)", p.Name, mem.String())
		}
		if cpu := c.Resources.Requests[corev1.ResourceCPU]; cpu.Cmp(resource.MustParse("250m")) != 0 {
			t.Errorf("executor %s cpu request = %s, want 250m", p.Name, cpu.String())
		}
		if p.Spec.RestartPolicy != corev1.RestartPolicyNever {
			t.Errorf("executor %s restartPolicy = %s, want Never", p.Name, p.Spec.RestartPolicy)
		}
	}

	d := e.expectEnd(driver.Name, 30*time.Second, corev1.PodSucceeded, 0, "Completed")
	if ran := terminated(d).FinishedAt.Sub(start); ran < 7*time.Second {
		t.Errorf("driver ended %s after creation, want at least its 8s duration", ran)
	}
	e.waitExecutors(30*time.Second, "deleted after the app ended", none)
	// A terminal driver must stay terminal: kwok's stages must not bring it back.
	time.Sleep(2 * time.Second)
	e.waitPod(driver.Name, time.Second, "still Succeeded", phaseIs(corev1.PodSucceeded))
}

func TestE2EDeletingTheDriverRemovesExecutorsThroughGC(t *testing.T) {
	e := newE2E(t)
	driver := e.createDriver(newDriver(e.ns, "spark-pi-driver").annotate(AnnotationDuration, "10m"), map[string]string{"spark.executor.instances": "2"})
	e.waitExecutors(60*time.Second, "2 running", allRunning(2))

	err := e.client.CoreV1().Pods(e.ns).Delete(context.Background(), driver.Name, metav1.DeleteOptions{PropagationPolicy: new(metav1.DeletePropagationBackground)})
	if err != nil {
		t.Fatalf("delete driver: %v", err)
	}
	e.waitExecutors(60*time.Second, "removed by the garbage collector", none)
}

func TestE2EExitCode(t *testing.T) {
	e := newE2E(t)
	driver := e.createDriver(newDriver(e.ns, "spark-pi-driver").annotate(AnnotationDuration, "2s", AnnotationExitCode, "3"), map[string]string{"spark.executor.instances": "1"})
	e.expectEnd(driver.Name, 60*time.Second, corev1.PodFailed, 3, "Error")
	e.waitExecutors(30*time.Second, "deleted after the app failed", none)
}

func TestE2EOOMKilled(t *testing.T) {
	t.Run("limit below threshold", func(t *testing.T) {
		t.Parallel()
		e := newE2E(t)
		driver := e.createDriver(newDriver(e.ns, "spark-pi-driver").memoryLimit("1408Mi").
			annotate(AnnotationOOMBelow, "2Gi", AnnotationDuration, "1m"), nil)
		d := e.expectEnd(driver.Name, 60*time.Second, corev1.PodFailed, 137, "OOMKilled")
		if ran := terminated(d).FinishedAt.Sub(d.CreationTimestamp.Time); ran > 30*time.Second {
			t.Errorf("OOMKilled %s after creation; want it promptly, not after the 1m duration", ran)
		}
	})
	t.Run("limit above threshold", func(t *testing.T) {
		t.Parallel()
		e := newE2E(t)
		driver := e.createDriver(newDriver(e.ns, "spark-pi-driver").memoryLimit("4Gi").
			annotate(AnnotationOOMBelow, "2Gi", AnnotationDuration, "3s"), map[string]string{"spark.executor.instances": "1"})
		e.expectEnd(driver.Name, 60*time.Second, corev1.PodSucceeded, 0, "Completed")
	})
}

// Executors 1 and 2 fail; Spark's allocator replaces them with executors 4 and 5, and the
// driver ends as annotated.
func TestE2EExecutorFailures(t *testing.T) {
	e := newE2E(t)
	driver := e.createDriver(newDriver(e.ns, "spark-pi-driver").annotate(AnnotationDuration, "15s", AnnotationExecutorFailures, "2"),
		map[string]string{"spark.executor.instances": "3"})

	execs := e.waitExecutors(60*time.Second, "2 failed and 3 running", func(ps []corev1.Pod) bool {
		failed, running := 0, 0
		for _, p := range ps {
			switch p.Status.Phase {
			case corev1.PodFailed:
				failed++
			case corev1.PodRunning:
				running++
			}
		}
		return failed == 2 && running == 3
	})
	var failed, running []string
	for _, p := range execs {
		switch p.Status.Phase {
		case corev1.PodFailed:
			failed = append(failed, p.Name)
			if term := terminated(&p); term == nil || term.ExitCode != 1 || term.Reason != "Error" {
				t.Errorf("failed executor %s: %s, want exit code 1, reason Error", p.Name, describe(&p))
			}
		case corev1.PodRunning:
			running = append(running, p.Name)
		}
	}
	if want := []string{"spark-pi-exec-1", "spark-pi-exec-2"}; !slices.Equal(failed, want) {
		t.Errorf("failed executors %v, want %v", failed, want)
	}
	if want := []string{"spark-pi-exec-3", "spark-pi-exec-4", "spark-pi-exec-5"}; !slices.Equal(running, want) {
		t.Errorf("running executors %v, want %v (the failed ones replaced by the next ids)", running, want)
	}
	if d, err := e.client.CoreV1().Pods(e.ns).Get(context.Background(), driver.Name, metav1.GetOptions{}); err != nil || d.Status.Phase != corev1.PodRunning {
		t.Errorf("driver while executors failed: %s (err %v), want still Running", describe(d), err)
	}
	e.expectEnd(driver.Name, 60*time.Second, corev1.PodSucceeded, 0, "Completed")
}

// Past spark.executor.maxNumFailures the driver exits 11 at once, as Spark's does.
func TestE2EMaxNumFailuresEndsTheApp(t *testing.T) {
	e := newE2E(t)
	driver := e.createDriver(newDriver(e.ns, "spark-pi-driver").annotate(AnnotationDuration, "10m", AnnotationExecutorFailures, "2"),
		map[string]string{"spark.executor.instances": "2", "spark.executor.maxNumFailures": "1"})
	d := e.expectEnd(driver.Name, 60*time.Second, corev1.PodFailed, ExitMaxExecutorFailures, "Error")
	if msg, want := terminated(d).Message, "Max number of executor failures (1) reached"; msg != want {
		t.Errorf("termination message %q, want %q", msg, want)
	}
	e.waitExecutors(30*time.Second, "deleted after the app failed", none)
}

func TestE2EImagePullError(t *testing.T) {
	e := newE2E(t)
	driver := e.createDriver(newDriver(e.ns, "spark-pi-driver").annotate(AnnotationImagePullError, "true", AnnotationDuration, "1s"), nil)

	waiting := func(reason string) func(*corev1.Pod) bool {
		return func(p *corev1.Pod) bool { return waitingReason(p) == reason }
	}
	p := e.waitPod(driver.Name, 60*time.Second, "waiting in ErrImagePull", func(p *corev1.Pod) bool {
		// The emulator may already have moved on to ImagePullBackOff.
		return waiting("ErrImagePull")(p) || waiting("ImagePullBackOff")(p)
	})
	if p.Status.Phase != corev1.PodPending {
		t.Errorf("driver phase = %s while the image cannot be pulled, want Pending", p.Status.Phase)
	}
	e.waitPod(driver.Name, 30*time.Second, "waiting in ImagePullBackOff", waiting("ImagePullBackOff"))
	// It never runs: past its 1s duration it is still Pending, backing off, with no executors.
	time.Sleep(4 * time.Second)
	p = e.waitPod(driver.Name, time.Second, "still backing off", waiting("ImagePullBackOff"))
	if p.Status.Phase != corev1.PodPending {
		t.Errorf("driver phase = %s, want Pending", p.Status.Phase)
	}
	if execs := e.executors(); len(execs) != 0 {
		t.Errorf("a driver that never ran has %d executors", len(execs))
	}
}

func TestE2EBadAnnotationFailsTheDriverNamingIt(t *testing.T) {
	e := newE2E(t)
	driver := e.createDriver(newDriver(e.ns, "spark-pi-driver").annotate(AnnotationDuration, "soon"), nil)
	d := e.expectEnd(driver.Name, 60*time.Second, corev1.PodFailed, 1, "Error")
	if msg := terminated(d).Message; !strings.Contains(msg, AnnotationDuration) {
		t.Errorf("termination message %q does not name %s", msg, AnnotationDuration)
	}
}

func TestE2EEmulatorRestartKeepsTheSchedule(t *testing.T) {
	e := newE2E(t, true)
	stop := e.startEmulator(Config{Namespace: e.ns})
	driver := e.createDriver(newDriver(e.ns, "spark-pi-driver").annotate(AnnotationDuration, "10s"), map[string]string{"spark.executor.instances": "2"})
	e.waitExecutors(60*time.Second, "2 running", allRunning(2))
	started := e.waitPod(driver.Name, time.Second, "annotated with its start", func(p *corev1.Pod) bool {
		return p.Annotations[AnnotationStartedAt] != ""
	}).Annotations[AnnotationStartedAt]
	stop()

	e.startEmulator(Config{Namespace: e.ns})
	d := e.expectEnd(driver.Name, 60*time.Second, corev1.PodSucceeded, 0, "Completed")
	if got := d.Annotations[AnnotationStartedAt]; got != started {
		t.Errorf("started-at changed across the restart: %s, then %s", started, got)
	}
	begin, _ := time.Parse(time.RFC3339Nano, started)
	if late := terminated(d).FinishedAt.Sub(begin); late > 16*time.Second {
		t.Errorf("driver ended %s after its start; want about its 10s duration, not restarted", late)
	}
	e.waitExecutors(30*time.Second, "deleted after the app ended", none)
}

func TestE2EStackEmulatorIgnoresTestNamespaces(t *testing.T) {
	e := newE2E(t, true)
	// Configured as the stack's emulator is by default: every namespace but tests'.
	e.startEmulator(Config{IgnoreNamespaces: labels.SelectorFromSet(labels.Set{LabelNamespaceEmulator: NamespaceTestValue})})
	driver := e.createDriver(newDriver(e.ns, "spark-pi-driver").annotate(AnnotationDuration, "1s"), nil)
	e.waitPod(driver.Name, 60*time.Second, "Running", phaseIs(corev1.PodRunning))
	time.Sleep(4 * time.Second)
	p := e.waitPod(driver.Name, time.Second, "still Running", phaseIs(corev1.PodRunning))
	if v, ok := p.Annotations[AnnotationStartedAt]; ok {
		t.Errorf("an emulator touched the driver in a test namespace (started-at %s)", v)
	}
	if execs := e.executors(); len(execs) != 0 {
		t.Errorf("an emulator created %d executors in a test namespace", len(execs))
	}
}
