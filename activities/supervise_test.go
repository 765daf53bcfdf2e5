package activities

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kindling-dev/kindling/k8s/cluster"
	"github.com/kindling-dev/kindling/k8s/job"
)

// fastClocks shortens supervision's clocks for one test.
func fastClocks(t *testing.T) {
	tick, grace, config := superviseTick, missingGrace, missingConfigAfter
	superviseTick, missingGrace, missingConfigAfter = 50*time.Millisecond, 300*time.Millisecond, 300*time.Millisecond
	t.Cleanup(func() { superviseTick, missingGrace, missingConfigAfter = tick, grace, config })
}

func driver(uid string, phase corev1.PodPhase, mutate ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "pi-driver", Namespace: "jobs", UID: types.UID(uid),
			Labels: map[string]string{job.LabelSparkAppID: "spark-1", job.LabelSparkRole: job.SparkRoleDriver}},
		Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: job.DriverContainerName, Image: "spark:4"}}},
		Status: corev1.PodStatus{Phase: phase},
	}
	for _, m := range mutate {
		m(p)
	}
	return p
}

// watchOf starts a pod watch over cs: the worker's cache, which may differ from the API server.
func watchOf(t *testing.T, cs *fake.Clientset) *cluster.PodWatch {
	t.Helper()
	w, err := cluster.NewPodWatch(cs, "", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := w.Start(ctx, ctx); err != nil {
		t.Fatal(err)
	}
	return w
}

func supervise(t *testing.T, a *Activities, heartbeat *SuperviseProgress, timeout time.Duration) (SuperviseOutput, error) {
	t.Helper()
	out, _, err := superviseCounting(t, a, heartbeat, timeout)
	return out, err
}

// superviseCounting runs Supervise as supervise does and also counts its heartbeats.
func superviseCounting(t *testing.T, a *Activities, heartbeat *SuperviseProgress, timeout time.Duration) (SuperviseOutput, int, error) {
	t.Helper()
	return superviseInput(t, a, SuperviseInput{Namespace: "jobs", AppID: "spark-1", DriverPod: "pi-driver", DriverUID: "uid-1"}, heartbeat, timeout)
}

// superviseInput runs Supervise with in until it returns or timeout passes, counting heartbeats.
func superviseInput(t *testing.T, a *Activities, in SuperviseInput, heartbeat *SuperviseProgress, timeout time.Duration) (SuperviseOutput, int, error) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	var mu sync.Mutex
	beats := 0
	record := recordHeartbeat
	recordHeartbeat = func(ctx context.Context, details ...any) {
		mu.Lock()
		beats++
		mu.Unlock()
		record(ctx, details...)
	}
	defer func() { recordHeartbeat = record }()
	if heartbeat != nil {
		env.SetHeartbeatDetails(*heartbeat)
	}
	// The activity's context ends at timeout, as a worker's stop would end it.
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	env.SetWorkerOptions(worker.Options{BackgroundActivityContext: ctx})
	v, err := env.ExecuteActivity(a.Supervise, in)
	var out SuperviseOutput
	if err == nil {
		err = v.Get(&out)
	}
	mu.Lock()
	defer mu.Unlock()
	return out, beats, err
}

// A watch that lags behind the create (the cache has no driver yet) must not end a live job:
// the API server, read afresh, still has it.
func TestSuperviseDoesNotBelieveALaggingCache(t *testing.T) {
	fastClocks(t)
	api := fake.NewClientset(driver("uid-1", corev1.PodRunning))
	a := &Activities{Cluster: cluster.Objects{Kube: api}, Pods: watchOf(t, fake.NewClientset())}
	_, err := supervise(t, a, nil, 2*time.Second)
	if !errors.Is(err, context.DeadlineExceeded) && (err == nil || !strings.Contains(err.Error(), "deadline")) {
		t.Fatalf("Supervise ended (%v) although the driver runs; want it still supervising when the test times out", err)
	}
}

// Only a fresh read that finds no driver (or another pod under its name) ends the attempt.
func TestSuperviseBelievesADeletedDriverOnlyAfterAFreshRead(t *testing.T) {
	fastClocks(t)
	for _, tc := range []struct {
		name string
		api  *fake.Clientset
	}{
		{"gone", fake.NewClientset()},
		{"replaced by another pod of the name", fake.NewClientset(driver("uid-2", corev1.PodRunning))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The cache shows a pod of the name, but not ours: it does not count as the driver.
			a := &Activities{Cluster: cluster.Objects{Kube: tc.api}, Pods: watchOf(t, fake.NewClientset(driver("uid-2", corev1.PodRunning)))}
			out, err := supervise(t, a, nil, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if out.Outcome != OutcomeDriverDeleted {
				t.Errorf("outcome %q (%s), want %s", out.Outcome, out.Reason, OutcomeDriverDeleted)
			}
		})
	}
}

// A Pending driver that mounts a ConfigMap nobody made ends with the name of what is missing.
func TestSuperviseNamesAMissingConfigMap(t *testing.T) {
	fastClocks(t)
	d := driver("uid-1", corev1.PodPending, func(p *corev1.Pod) {
		p.Spec.Volumes = []corev1.Volume{{Name: "conf", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "spark-defaults"}}}}}
	})
	a := &Activities{Cluster: cluster.Objects{Kube: fake.NewClientset(d)}, Pods: watchOf(t, fake.NewClientset(d))}
	out, err := supervise(t, a, nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if out.Outcome != OutcomeMissingConfig || !strings.Contains(out.Reason, "ConfigMap spark-defaults") {
		t.Errorf("outcome %q reason %q, want %s naming ConfigMap spark-defaults", out.Outcome, out.Reason, OutcomeMissingConfig)
	}
}

// A Pending driver whose Secret volume is missing ends naming it, from the kubelet's
// FailedMount event, without reading Secrets (the worker may not).
func TestSuperviseNamesAMissingSecretFromItsEvents(t *testing.T) {
	fastClocks(t)
	d := driver("uid-1", corev1.PodPending, func(p *corev1.Pod) {
		p.Spec.Volumes = []corev1.Volume{{Name: "creds", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "db"}}}}
	})
	ev := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e1", Namespace: d.Namespace}, Reason: "FailedMount", Type: corev1.EventTypeWarning,
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: d.Name, Namespace: d.Namespace, UID: d.UID},
		Message:        `MountVolume.SetUp failed for volume "creds" : secret "db" not found`}
	other := ev.DeepCopy()
	other.Name, other.InvolvedObject.UID, other.Message = "e2", "uid-other", `MountVolume.SetUp failed for volume "x" : secret "not-ours" not found`
	api := fake.NewClientset(d, ev, other)
	api.PrependReactor("get", "secrets", func(k8stesting.Action) (bool, runtime.Object, error) {
		t.Error("Supervise read a Secret")
		return true, nil, nil
	})
	a := &Activities{Cluster: cluster.Objects{Kube: api}, Pods: watchOf(t, fake.NewClientset(d))}
	out, err := supervise(t, a, nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if out.Outcome != OutcomeMissingConfig || !strings.Contains(out.Reason, "Secret db not found") || strings.Contains(out.Reason, "not-ours") {
		t.Errorf("outcome %q reason %q, want %s naming Secret db alone", out.Outcome, out.Reason, OutcomeMissingConfig)
	}
}

// A worker restart resumes from the last heartbeat: the image-pull clock keeps running, so a
// driver that already waited out its bound fails at once instead of waiting it out again.
func TestSuperviseResumesItsClocksFromTheHeartbeat(t *testing.T) {
	fastClocks(t)
	d := driver("uid-1", corev1.PodPending, func(p *corev1.Pod) {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: job.DriverContainerName,
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: "Back-off pulling image"}}}}
	})
	a := &Activities{Cluster: cluster.Objects{Kube: fake.NewClientset(d)}, Pods: watchOf(t, fake.NewClientset(d))}
	waited := time.Now().Add(-3 * time.Minute)
	out, err := supervise(t, a, &SuperviseProgress{DriverPhase: "Pending", PendingSince: waited, ImageWaitingSince: waited}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if out.Outcome != OutcomeImagePull || !strings.Contains(out.Reason, "ImagePullBackOff for 3m") {
		t.Errorf("outcome %q reason %q, want %s counted from the heartbeat's clock (3m)", out.Outcome, out.Reason, OutcomeImagePull)
	}
}

// A running driver whose progress does not change costs a heartbeat per floor, not per tick:
// at a thousand jobs a worker would otherwise send hundreds of RPCs a second.
func TestSuperviseHeartbeatsOnChangeNotOnEveryTick(t *testing.T) {
	fastClocks(t) // a look every 50ms
	floor := heartbeatFloor
	heartbeatFloor = time.Second
	t.Cleanup(func() { heartbeatFloor = floor })
	d := driver("uid-1", corev1.PodRunning)
	a := &Activities{Cluster: cluster.Objects{Kube: fake.NewClientset(d)}, Pods: watchOf(t, fake.NewClientset(d))}
	_, beats, _ := superviseCounting(t, a, nil, 2500*time.Millisecond)
	// About 50 looks in 2.5s; the first beat, and one per 1s floor.
	if beats < 2 || beats > 5 {
		t.Errorf("%d heartbeats in 2.5s of an unchanging job, want about 3 (one, then one per floor)", beats)
	}
}

// signals records the progress signals Supervise sends its workflow.
type signals struct {
	WorkflowDescriber // nil: Supervise calls nothing else
	mu                sync.Mutex
	got               []LiveProgress
}

func (s *signals) SignalWorkflow(_ context.Context, _, _, name string, arg any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if name == SignalProgress {
		s.got = append(s.got, arg.(LiveProgress))
	}
	return nil
}

func (s *signals) all() []LiveProgress {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got)
}

// The status a person queries shows the executors that run now: Supervise signals a change
// of what they would see, a few times per attempt, never once per look.
func TestSuperviseSignalsWhatChangesAndOnlyThat(t *testing.T) {
	fastClocks(t) // a look every 50ms
	every := progressEvery
	progressEvery = 200 * time.Millisecond
	t.Cleanup(func() { progressEvery = every })
	d := driver("uid-1", corev1.PodRunning)
	watched := fake.NewClientset(d)
	sig := &signals{}
	a := &Activities{Cluster: cluster.Objects{Kube: fake.NewClientset(d)}, Pods: watchOf(t, watched), Temporal: sig}
	executor := func(name string, phase corev1.PodPhase) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "jobs", UID: types.UID(name),
			Labels: map[string]string{job.LabelSparkAppID: "spark-1", job.LabelSparkRole: job.SparkRoleExecutor}},
			Status: corev1.PodStatus{Phase: phase}}
	}
	go func() {
		time.Sleep(300 * time.Millisecond)
		for _, n := range []string{"exec-1", "exec-2"} {
			_, _ = watched.CoreV1().Pods("jobs").Create(context.Background(), executor(n, corev1.PodPending), metav1.CreateOptions{})
		}
		time.Sleep(300 * time.Millisecond)
		for _, n := range []string{"exec-1", "exec-2"} {
			_, _ = watched.CoreV1().Pods("jobs").Update(context.Background(), executor(n, corev1.PodRunning), metav1.UpdateOptions{})
		}
	}()
	in := SuperviseInput{Namespace: "jobs", AppID: "spark-1", DriverPod: "pi-driver", DriverUID: "uid-1", SignalProgress: true}
	_, _, _ = superviseInput(t, a, in, nil, 2500*time.Millisecond)
	got := sig.all()
	if len(got) == 0 {
		t.Fatal("no progress signalled: the status query would show no executors")
	}
	last := got[len(got)-1]
	want := LiveProgress{DriverPod: "pi-driver", DriverPhase: "Running", ExecutorsRunning: 2}
	if last != want {
		t.Errorf("last signal %+v, want %+v", last, want)
	}
	// About 50 looks; the job changed three times (driver seen, executors pending, running).
	if len(got) > 4 {
		t.Errorf("%d signals for 3 changes in 2.5s: %+v", len(got), got)
	}
	for i := 1; i < len(got); i++ {
		if got[i] == got[i-1] {
			t.Errorf("signal %d repeats the one before: %+v", i, got[i])
		}
	}
	// Without SignalProgress (a run recorded before it) nothing is signalled.
	quiet := &signals{}
	a.Temporal = quiet
	in.SignalProgress = false
	_, _, _ = superviseInput(t, a, in, nil, 300*time.Millisecond)
	if n := len(quiet.all()); n != 0 {
		t.Errorf("%d signals to a run that did not ask for them", n)
	}
}
