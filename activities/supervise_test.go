package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
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

// signals records the progress signals Supervise sends its workflow, and when; fail, when set,
// is the error each signal gets.
type signals struct {
	WorkflowDescriber // nil: Supervise calls nothing else
	mu                sync.Mutex
	got               []LiveProgress
	at                []time.Time
	calls             int
	fail              error
}

func (s *signals) SignalWorkflow(_ context.Context, _, _, name string, arg any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if name != SignalProgress {
		return nil
	}
	s.calls++
	s.at = append(s.at, time.Now())
	if s.fail != nil {
		return s.fail
	}
	s.got = append(s.got, arg.(LiveProgress))
	return nil
}

func (s *signals) all() ([]LiveProgress, []time.Time, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got), slices.Clone(s.at), s.calls
}

// executorsComeAndGo runs a driver whose six executors appear one every 30ms, then turn
// Running one every 30ms: twelve changes a person would see, in two bursts.
func executorsComeAndGo(t *testing.T, sig *signals, signal bool, run time.Duration) {
	t.Helper()
	d := driver("uid-1", corev1.PodRunning)
	watched := fake.NewClientset(d)
	a := &Activities{Cluster: cluster.Objects{Kube: fake.NewClientset(d)}, Pods: watchOf(t, watched), Temporal: sig}
	executor := func(name string, phase corev1.PodPhase) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "jobs", UID: types.UID(name),
			Labels: map[string]string{job.LabelSparkAppID: "spark-1", job.LabelSparkRole: job.SparkRoleExecutor}},
			Status: corev1.PodStatus{Phase: phase}}
	}
	go func() {
		time.Sleep(200 * time.Millisecond)
		for i := range 6 {
			_, _ = watched.CoreV1().Pods("jobs").Create(context.Background(), executor(fmt.Sprint("exec-", i), corev1.PodPending), metav1.CreateOptions{})
			time.Sleep(30 * time.Millisecond)
		}
		time.Sleep(400 * time.Millisecond)
		for i := range 6 {
			_, _ = watched.CoreV1().Pods("jobs").Update(context.Background(), executor(fmt.Sprint("exec-", i), corev1.PodRunning), metav1.UpdateOptions{})
			time.Sleep(30 * time.Millisecond)
		}
	}()
	in := SuperviseInput{Namespace: "jobs", AppID: "spark-1", DriverPod: "pi-driver", DriverUID: "uid-1", SignalProgress: signal}
	_, _, _ = superviseInput(t, a, in, nil, run)
}

func throttle(t *testing.T, every time.Duration) {
	fastClocks(t) // a look every 50ms
	was := progressEvery
	progressEvery = every
	t.Cleanup(func() { progressEvery = was })
}

// The status a person queries shows the executors that run now: Supervise signals what they
// would see, at most every progressEvery however fast it changes, and its last state arrives.
func TestSuperviseSignalsWhatChangesAndOnlyThat(t *testing.T) {
	throttle(t, 300*time.Millisecond)
	sig := &signals{}
	executorsComeAndGo(t, sig, true, 2500*time.Millisecond)
	got, at, _ := sig.all()
	if len(got) == 0 {
		t.Fatal("no progress signalled: the status query would show no executors")
	}
	if last, want := got[len(got)-1], (LiveProgress{DriverPod: "pi-driver", DriverPhase: "Running", ExecutorsRunning: 6}); last != want {
		t.Errorf("last signal %+v, want %+v", last, want)
	}
	for i := 1; i < len(got); i++ {
		if got[i] == got[i-1] {
			t.Errorf("signal %d repeats the one before: %+v", i, got[i])
		}
		if gap := at[i].Sub(at[i-1]); gap < 290*time.Millisecond { // measured at the call, after the loop read its clock
			t.Errorf("signals %d and %d %s apart; at most one per 300ms", i-1, i, gap)
		}
	}
	// Twelve changes in two bursts of 180ms each: a handful of signals, not twelve.
	if len(got) > 6 {
		t.Errorf("%d signals for two bursts of changes: %+v", len(got), got)
	}

	// Without SignalProgress (a run recorded before it) nothing is signalled.
	quiet := &signals{}
	executorsComeAndGo(t, quiet, false, time.Second)
	if _, _, n := quiet.all(); n != 0 {
		t.Errorf("%d signals to a run that did not ask for them", n)
	}
}

// A run that is gone (closed, or reset away) gets no more signals after the first NotFound;
// any other failure is tried again at the same pace, not on every look.
func TestSuperviseSignalFailures(t *testing.T) {
	throttle(t, 300*time.Millisecond)
	gone := &signals{fail: serviceerror.NewNotFound("workflow execution already completed")}
	executorsComeAndGo(t, gone, true, 1500*time.Millisecond)
	if _, _, n := gone.all(); n != 1 {
		t.Errorf("%d signals to a closed run; want the one that found it closed", n)
	}
	busy := &signals{fail: serviceerror.NewUnavailable("frontend busy")}
	executorsComeAndGo(t, busy, true, 1500*time.Millisecond)
	_, at, n := busy.all()
	if n < 2 {
		t.Errorf("%d tries while the server was unavailable; want it tried again", n)
	}
	for i := 1; i < len(at); i++ {
		if gap := at[i].Sub(at[i-1]); gap < 290*time.Millisecond { // measured at the call, after the loop read its clock
			t.Errorf("tries %d and %d %s apart: a failure must wait as a success does", i-1, i, gap)
		}
	}
}
