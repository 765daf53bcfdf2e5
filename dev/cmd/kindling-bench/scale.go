package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	"github.com/kindling-dev/kindling/dev/emulator"
	"github.com/kindling-dev/kindling/k8s/cluster"
	"github.com/kindling-dev/kindling/k8s/job"
)

// scaleResult is what the scale run measured on one worker following jobs × executors pods.
type scaleResult struct {
	jobs, executors int
	ramp            time.Duration // first submission → every driver and executor Running
	rssMiB, hwmMiB  int64         // the worker's resident memory at full scale, and its peak
	podWatches      float64       // pod watches the worker opened on the API server
	heartbeatsPerS  float64       // the worker's heartbeats at full scale
	cpuPerS         float64       // the worker's CPU-seconds per second at full scale
	ended           int
	seenP50         time.Duration // a driver's end → its job's Supervise completed
	seenP99         time.Duration
	heapTop         string // the worker's live heap at full scale, largest first (go tool pprof -top)
}

// scaleNodesLabel marks the fake nodes the scale run adds, and its jobs' node selector.
const scaleNodesLabel = "kindling.dev/bench"

// scale runs jobs jobs of executors executors each on a fresh worker process of its own, holds
// them at full scale, then ends a sample of drivers one by one and times how soon each job sees it.
func scale(ctx context.Context, cfg config, tc client.Client, kc *cluster.Clients, id string, jobs, executors int) (scaleResult, error) {
	res := scaleResult{jobs: jobs, executors: executors}
	ns := "bench-scale-" + id
	core := kc.Kube.CoreV1()
	// Fake nodes of their own, tainted so nothing else lands on them: the stack's three nodes
	// hold 330 pods. They go last, once their pods are gone (defers run in reverse).
	pods := jobs * (executors + 1)
	nodes := pods/2500 + 1
	defer func() {
		for i := range nodes {
			_ = core.Nodes().Delete(context.Background(), fmt.Sprintf("bench-%s-%d", id, i), metav1.DeleteOptions{})
		}
	}()
	for i := range nodes {
		if err := addNode(ctx, kc, fmt.Sprintf("bench-%s-%d", id, i), id); err != nil {
			return res, err
		}
	}
	if _, err := core.Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		return res, err
	}
	defer deleteNamespace(kc, ns)
	if _, err := core.ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "spark"}}, metav1.CreateOptions{}); err != nil {
		return res, err
	}

	// The bench's own view of the pods (opened before the worker starts, so the API server's
	// count of pod watches moves by the worker's alone).
	factory := informers.NewSharedInformerFactoryWithOptions(kc.Kube, 0, informers.WithNamespace(ns))
	inf := factory.Core().V1().Pods().Informer()
	stopInf := make(chan struct{})
	defer close(stopInf)
	factory.Start(stopInf)
	cache.WaitForCacheSync(stopInf, inf.HasSynced)

	watches0, err := podWatches(ctx, kc)
	if err != nil {
		return res, err
	}
	port, err := freePort()
	if err != nil {
		return res, err
	}
	queue := "bench-scale-" + id
	wk := exec.Command(cfg.workerBin, "--kube-qps", strconv.Itoa(cfg.kubeQPS), "--task-queue", queue, "--sweep-every", "0",
		"--http-address", fmt.Sprintf("127.0.0.1:%d", port), "--log-level", "warn", "--watch-namespace", ns, "--pprof")
	wk.Stderr = os.Stderr
	if err := wk.Start(); err != nil {
		return res, fmt.Errorf("start %s: %w", cfg.workerBin, err)
	}
	defer func() { _ = wk.Process.Signal(os.Interrupt); _, _ = wk.Process.Wait() }()
	metricsURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	if err := waitReady(fmt.Sprintf("http://127.0.0.1:%d/readyz", port), time.Minute); err != nil {
		return res, err
	}
	watches1, err := podWatches(ctx, kc)
	if err != nil {
		return res, err
	}
	res.podWatches = watches1 - watches0

	// Every job at once (64 starts in flight): a driver that runs for an hour, and executors.
	start := time.Now()
	ids := make([]string, jobs)
	if _, _, err := pool(64, jobs, func(i int) (time.Duration, error) {
		ids[i] = fmt.Sprintf("bench-%s-scale-%d", id, i)
		_, err := startJob(ctx, tc, ids[i], queue, scaleJob(fmt.Sprintf("s-%d", i), ns, id, executors))
		return 0, err
	}); err != nil {
		return res, err
	}
	defer func() {
		for _, wid := range ids {
			_ = tc.TerminateWorkflow(context.Background(), wid, "", "benchmark over")
		}
	}()
	running := func() (drivers, execs int) {
		for _, o := range inf.GetStore().List() {
			p := o.(*corev1.Pod)
			if p.Status.Phase != corev1.PodRunning {
				continue
			}
			switch p.Labels[job.LabelSparkRole] {
			case job.SparkRoleDriver:
				drivers++
			case job.SparkRoleExecutor:
				execs++
			}
		}
		return
	}
	deadline := time.Now().Add(30 * time.Minute)
	for {
		d, e := running()
		if d == jobs && e == jobs*executors {
			break
		}
		if time.Now().After(deadline) {
			return res, fmt.Errorf("after 30 minutes %d of %d drivers and %d of %d executors run", d, jobs, e, jobs*executors)
		}
		time.Sleep(2 * time.Second)
	}
	res.ramp = time.Since(start)

	// Full scale, held: what following it costs the worker.
	// Longer than twice the supervisors' 60 s heartbeat floor: every job's idle heartbeats count.
	window := 150 * time.Second
	if jobs < 500 {
		window = 70 * time.Second
	}
	hb0, err := metricValue(metricsURL, "kindling_heartbeats_total")
	if err != nil {
		return res, err
	}
	cpu0, _ := procCPU(wk.Process.Pid)
	time.Sleep(window)
	hb1, err := metricValue(metricsURL, "kindling_heartbeats_total")
	if err != nil {
		return res, err
	}
	cpu1, _ := procCPU(wk.Process.Pid)
	res.heartbeatsPerS = (hb1 - hb0) / window.Seconds()
	res.cpuPerS = (cpu1 - cpu0) / window.Seconds()
	rss, _ := procStatus(wk.Process.Pid, "VmRSS:")
	res.rssMiB = rss / 1024
	res.heapTop = heapTop(fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/heap", port))

	// A driver's end, seen by its job: end a sample one by one, as drivers end in a real
	// cluster, and time each from the status write to its Supervise's completion in history.
	sample := min(jobs, 200)
	endedAt := make([]time.Time, sample)
	for i := range sample {
		name := driverOf(inf, ids[i])
		if name == "" {
			return res, fmt.Errorf("%s: no driver pod", ids[i])
		}
		endedAt[i] = time.Now()
		if err := emulator.Succeed(ctx, kc.Kube, ns, name); err != nil {
			return res, fmt.Errorf("end driver %s: %w", name, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var seen []time.Duration
	for i := range sample {
		ectx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		err := tc.GetWorkflow(ectx, ids[i], "").Get(ectx, nil)
		cancel()
		if err != nil {
			return res, fmt.Errorf("%s after its driver ended: %w", ids[i], err)
		}
		at, err := superviseCompleted(ctx, tc, ids[i])
		if err != nil {
			return res, err
		}
		seen = append(seen, max(0, at.Sub(endedAt[i])))
	}
	res.ended = len(seen)
	res.seenP50, res.seenP99 = percentiles(seen)
	hwm, _ := procStatus(wk.Process.Pid, "VmHWM:")
	res.hwmMiB = hwm / 1024
	return res, nil
}

// scaleJob is a job that runs until the benchmark ends it, on the scale run's nodes.
func scaleJob(name, ns, id string, executors int) job.JobSpec {
	s := benchJob(name, ns)
	n := int32(executors)
	one := int32(1)
	s.Executor.Instances = &n
	s.Driver.Annotations = map[string]string{"emulator.kindling.dev/duration": "2h"}
	tol := []corev1.Toleration{{Key: scaleNodesLabel, Operator: corev1.TolerationOpEqual, Value: id, Effect: corev1.TaintEffectNoSchedule}}
	sel := map[string]string{scaleNodesLabel: id}
	s.Driver.Tolerations, s.Driver.NodeSelector, s.Driver.Cores, s.Driver.Memory = tol, sel, &one, "512m"
	s.Executor.Tolerations, s.Executor.NodeSelector, s.Executor.Cores, s.Executor.Memory = tol, sel, &one, "512m"
	return s
}

// addNode adds a fake node kwok runs, large enough for thousands of pods and tainted for the
// scale run's jobs alone.
func addNode(ctx context.Context, kc *cluster.Clients, name, id string) error {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse("100000"), corev1.ResourceMemory: resource.MustParse("1000Ti"),
		corev1.ResourcePods: resource.MustParse("3000"),
	}
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
			Labels: map[string]string{"type": "kwok", scaleNodesLabel: id, "kubernetes.io/hostname": name}},
		Spec:   corev1.NodeSpec{Taints: []corev1.Taint{{Key: scaleNodesLabel, Value: id, Effect: corev1.TaintEffectNoSchedule}}},
		Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity},
	}
	if _, err := kc.Kube.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("add node %s: %w", name, err)
	}
	for range 120 {
		got, err := kc.Kube.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			for _, c := range got.Status.Conditions {
				if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
					return nil
				}
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	return fmt.Errorf("node %s never became Ready", name)
}

func deleteNamespace(kc *cluster.Clients, ns string) {
	ctx := context.Background()
	zero := int64(0)
	_ = kc.Kube.CoreV1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &zero}, metav1.ListOptions{})
	_ = kc.Kube.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
	for range 600 {
		if _, err := kc.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); apierrors.IsNotFound(err) {
			return
		}
		time.Sleep(time.Second)
	}
}

// podWatches is the API server's count of open pod watches (apiserver_longrunning_requests).
func podWatches(ctx context.Context, kc *cluster.Clients) (float64, error) {
	raw, err := kc.Kube.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return 0, fmt.Errorf("read the API server's metrics: %w", err)
	}
	var sum float64
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "apiserver_longrunning_requests{") && strings.Contains(l, `resource="pods"`) &&
			strings.Contains(l, `verb="WATCH"`) && strings.Contains(l, `subresource=""`) {
			v, err := strconv.ParseFloat(l[strings.LastIndex(l, " ")+1:], 64)
			if err == nil {
				sum += v
			}
		}
	}
	return sum, nil
}

// metricValue sums a Prometheus metric's samples at url.
func metricValue(url, name string) (float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var sum float64
	found := false
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if l == "" || l[0] == '#' {
			continue
		}
		if metric := strings.FieldsFunc(l, func(r rune) bool { return r == '{' || r == ' ' })[0]; metric != name {
			continue
		}
		if v, err := strconv.ParseFloat(l[strings.LastIndex(l, " ")+1:], 64); err == nil {
			sum += v
			found = true
		}
	}
	if !found {
		return 0, fmt.Errorf("%s has no %s", url, name)
	}
	return sum, sc.Err()
}

func waitReady(url string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after %s", url, within)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// driverOf finds a job's driver pod in the bench's cache by its workflow annotation.
func driverOf(inf cache.SharedIndexInformer, workflowID string) string {
	for _, o := range inf.GetStore().List() {
		p := o.(*corev1.Pod)
		if p.Labels[job.LabelSparkRole] == job.SparkRoleDriver && p.Annotations[job.AnnotationWorkflow] == workflowID {
			return p.Name
		}
	}
	return ""
}

// superviseCompleted is when the server recorded the job's (last) Supervise as completed.
func superviseCompleted(ctx context.Context, tc client.Client, id string) (time.Time, error) {
	it := tc.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	supervise := map[int64]bool{}
	var at time.Time
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return at, err
		}
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil && a.GetActivityType().GetName() == "Supervise" {
			supervise[ev.GetEventId()] = true
		}
		if c := ev.GetActivityTaskCompletedEventAttributes(); c != nil && supervise[c.GetScheduledEventId()] {
			at = ev.GetEventTime().AsTime()
		}
	}
	if at.IsZero() {
		return at, fmt.Errorf("%s: no completed Supervise in its history", id)
	}
	return at, nil
}

// heapTop fetches a heap profile and returns go tool pprof's top entries by live bytes, or
// why it could not.
func heapTop(url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return "no heap profile: " + err.Error()
	}
	defer resp.Body.Close()
	f, err := os.CreateTemp("", "kindling-heap-*.pb.gz")
	if err != nil {
		return "no heap profile: " + err.Error()
	}
	defer os.Remove(f.Name())
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return "no heap profile: " + err.Error()
	}
	f.Close()
	out, err := exec.Command("go", "tool", "pprof", "-top", "-sample_index=inuse_space", "-nodecount=15", f.Name()).CombinedOutput()
	if err != nil {
		return "no heap profile: " + err.Error() + ": " + string(out)
	}
	// Keep the summary and the table, not the file name pprof prints first.
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "Showing") || strings.HasPrefix(l, "Type:") {
			return strings.Join(lines[i:], "\n")
		}
	}
	return strings.Join(lines, "\n")
}
