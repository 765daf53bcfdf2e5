package cluster

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func driverPod(phase corev1.PodPhase, mutate ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "pi-driver", Namespace: "default"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "spark-kubernetes-driver", Image: "spark:4"}}},
		Status:     corev1.PodStatus{Phase: phase},
	}
	for _, m := range mutate {
		m(p)
	}
	return p
}

func terminated(code int32, reason string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "spark-kubernetes-driver",
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason}}}}
	}
}

func waiting(reason, msg string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "spark-kubernetes-driver",
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}}}
	}
}

func executor(phase corev1.PodPhase, mutate ...func(*corev1.Pod)) *corev1.Pod {
	p := driverPod(phase, mutate...)
	p.Name = "pi-exec-1"
	return p
}

func TestClassifyEndsAttemptWithAReasonAPersonUnderstands(t *testing.T) {
	in := Limits{StartTimeout: 10 * time.Minute, ImagePullTimeout: 2 * time.Minute}
	cases := []struct {
		name        string
		driver      *corev1.Pod
		execs       []*corev1.Pod
		elapsed     time.Duration // since the first look
		wantDone    bool
		wantOutcome string
		wantReason  string
		wantCode    int32
	}{
		{name: "succeeded", driver: driverPod(corev1.PodSucceeded, terminated(0, "Completed")),
			wantDone: true, wantOutcome: OutcomeSucceeded, wantReason: "succeeded"},
		{name: "app exit code", driver: driverPod(corev1.PodFailed, terminated(3, "Error")),
			wantDone: true, wantOutcome: OutcomeAppFailed, wantReason: "app failed with exit code 3", wantCode: 3},
		{name: "oom killed", driver: driverPod(corev1.PodFailed, terminated(137, "OOMKilled")),
			wantDone: true, wantOutcome: OutcomeOOMKilled, wantReason: "driver was OOMKilled (exit code 137)", wantCode: 137},
		{name: "evicted", driver: driverPod(corev1.PodFailed, func(p *corev1.Pod) {
			p.Status.Reason, p.Status.Message = "Evicted", "The node was low on resource: memory."
		}), wantDone: true, wantOutcome: OutcomeEvicted, wantReason: "driver pod was evicted: The node was low on resource: memory."},
		{name: "image pull within bound keeps waiting", driver: driverPod(corev1.PodPending, waiting("ImagePullBackOff", "Back-off pulling image")),
			elapsed: time.Minute},
		{name: "image pull past bound fails", driver: driverPod(corev1.PodPending, waiting("ErrImagePull", "not found")),
			elapsed: 2 * time.Minute, wantDone: true, wantOutcome: OutcomeImagePull, wantReason: "image spark:4 cannot be pulled (ErrImagePull for 2m0s)"},
		{name: "invalid image name fails at once", driver: driverPod(corev1.PodPending, waiting("InvalidImageName", "bad")),
			wantDone: true, wantOutcome: OutcomeImagePull},
		{name: "missing secret key", driver: driverPod(corev1.PodPending, waiting("CreateContainerConfigError", `secret "db" not found`)),
			wantDone: true, wantOutcome: OutcomeMissingConfig, wantReason: `driver cannot start: secret "db" not found`},
		{name: "unschedulable within start timeout waits", elapsed: 9 * time.Minute, driver: driverPod(corev1.PodPending, unschedulable)},
		{name: "unschedulable past start timeout fails", elapsed: 10 * time.Minute, driver: driverPod(corev1.PodPending, unschedulable),
			wantDone: true, wantOutcome: OutcomeUnschedulable, wantReason: "driver pod could not be scheduled for 10m0s: 0/3 nodes are available: 3 Insufficient memory."},
		{name: "no scheduler within start timeout waits", elapsed: 9 * time.Minute, driver: driverPod(corev1.PodPending)},
		{name: "no scheduler past start timeout fails", elapsed: 10 * time.Minute, driver: driverPod(corev1.PodPending, func(p *corev1.Pod) {
			p.Spec.SchedulerName = "yunikorn"
		}), wantDone: true, wantOutcome: OutcomeUnschedulable,
			wantReason: `driver pod was not scheduled for 10m0s: no scheduler has taken it (schedulerName "yunikorn": is that scheduler running?)`},
		{name: "running with executors", driver: driverPod(corev1.PodRunning),
			execs: []*corev1.Pod{executor(corev1.PodRunning), executor(corev1.PodPending), executor(corev1.PodFailed, terminated(137, "OOMKilled"))}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var prog Progress
			// A first look starts the clocks; the second comes tc.elapsed later.
			if _, done := Classify(tc.driver, tc.execs, t0, &prog, in); done && tc.elapsed > 0 {
				t.Fatalf("ended at the first look, want it to wait %s", tc.elapsed)
			}
			out, done := Classify(tc.driver, tc.execs, t0.Add(tc.elapsed), &prog, in)
			if done != tc.wantDone {
				t.Fatalf("done = %v, want %v (out %+v)", done, tc.wantDone, out)
			}
			if !done {
				return
			}
			if out.Outcome != tc.wantOutcome {
				t.Errorf("outcome = %q, want %q", out.Outcome, tc.wantOutcome)
			}
			if !strings.HasPrefix(out.Reason, tc.wantReason) {
				t.Errorf("reason = %q, want it to start with %q", out.Reason, tc.wantReason)
			}
			if out.ExitCode != tc.wantCode {
				t.Errorf("exit code = %d, want %d", out.ExitCode, tc.wantCode)
			}
		})
	}
}

func unschedulable(p *corev1.Pod) {
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
		Reason: corev1.PodReasonUnschedulable, Message: "0/3 nodes are available: 3 Insufficient memory."}}
}

func withUID(uid string, p *corev1.Pod) *corev1.Pod {
	p.UID = types.UID(uid)
	p.Name = "pi-exec-" + uid
	return p
}

// Spark deletes a failed executor at once: its failure and OOMKill must still count, for the
// whole attempt and across a worker restart (the progress travels in the heartbeat).
func TestClassifyRemembersExecutorFailuresAfterTheirPodsAreGone(t *testing.T) {
	var prog Progress
	oom := withUID("3", executor(corev1.PodFailed, terminated(137, "OOMKilled")))
	crashed := withUID("4", executor(corev1.PodRunning, terminated(1, "Error")))
	running := []*corev1.Pod{withUID("1", executor(corev1.PodRunning)), withUID("2", executor(corev1.PodRunning))}

	Classify(driverPod(corev1.PodRunning), append(append([]*corev1.Pod{}, running...), oom, crashed, withUID("5", executor(corev1.PodPending))), t0, &prog, Limits{})
	if prog.ExecutorsRunning != 2 || prog.ExecutorsPending != 1 || prog.ExecutorsFailed != 2 {
		t.Fatalf("counts running/pending/failed = %d/%d/%d, want 2/1/2", prog.ExecutorsRunning, prog.ExecutorsPending, prog.ExecutorsFailed)
	}
	// Spark deletes both failed executors; the worker restarts and resumes from its heartbeat.
	raw, err := json.Marshal(prog)
	if err != nil {
		t.Fatal(err)
	}
	var resumed Progress
	if err := json.Unmarshal(raw, &resumed); err != nil {
		t.Fatal(err)
	}
	Classify(driverPod(corev1.PodRunning), running, t0.Add(time.Second), &resumed, Limits{})
	out, done := Classify(driverPod(corev1.PodFailed, terminated(1, "Error")), running, t0.Add(2*time.Second), &resumed, Limits{})
	if !done || out.Progress.ExecutorsFailed != 2 || out.ExecutorOOMKills != 1 {
		t.Fatalf("after the failed executors went away: done=%v failed=%d oomKills=%d, want true, 2, 1",
			done, out.Progress.ExecutorsFailed, out.ExecutorOOMKills)
	}
}

// A sidecar (a log shipper, a proxy) keeps the pod Running after Spark's container ended.
func TestClassifyDecidesByTheDriverContainer(t *testing.T) {
	withSidecar := func(code int32, reason string) *corev1.Pod {
		p := driverPod(corev1.PodRunning)
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "fluent-bit"})
		p.Status.ContainerStatuses = []corev1.ContainerStatus{
			{Name: "fluent-bit", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}},
			{Name: "spark-kubernetes-driver", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason}}},
		}
		return p
	}
	for _, tc := range []struct {
		pod     *corev1.Pod
		outcome string
	}{
		{withSidecar(0, "Completed"), OutcomeSucceeded},
		{withSidecar(2, "Error"), OutcomeAppFailed},
		{withSidecar(137, "OOMKilled"), OutcomeOOMKilled},
	} {
		var prog Progress
		out, done := Classify(tc.pod, nil, t0, &prog, Limits{})
		if !done || out.Outcome != tc.outcome {
			t.Errorf("driver container ended %+v with the sidecar running: done=%v outcome=%q, want %q",
				tc.pod.Status.ContainerStatuses[1].State.Terminated, done, out.Outcome, tc.outcome)
		}
	}
	var prog Progress
	if _, done := Classify(withSidecar(0, "Completed"), nil, t0, &prog, Limits{}); !done {
		t.Error("not ended")
	}
	running := driverPod(corev1.PodRunning)
	running.Spec.Containers = append(running.Spec.Containers, corev1.Container{Name: "fluent-bit"})
	if _, done := Classify(running, nil, t0, &prog, Limits{}); done {
		t.Error("a running driver with a sidecar was taken as ended")
	}
}

// When a node goes, PodGC fails the driver before any container status says why: the reason
// names the node and what Kubernetes said.
func TestClassifyNamesTheNodeOfADriverThatWasLost(t *testing.T) {
	p := driverPod(corev1.PodFailed, func(p *corev1.Pod) {
		p.Spec.NodeName = "kwok-node-2"
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
			Reason: "DeletionByPodGC", Message: "PodGC: node no longer exists"}}
	})
	var prog Progress
	out, done := Classify(p, nil, t0, &prog, Limits{})
	if !done || !strings.Contains(out.Reason, "kwok-node-2") || !strings.Contains(out.Reason, "node no longer exists") {
		t.Fatalf("reason %q: want the node and PodGC's message", out.Reason)
	}
}

func TestClassifyEndsAnAttemptPastItsMaxRunTime(t *testing.T) {
	var prog Progress
	lim := Limits{MaxRunTime: time.Hour}
	if _, done := Classify(driverPod(corev1.PodRunning), nil, t0, &prog, lim); done {
		t.Fatal("ended at once")
	}
	if _, done := Classify(driverPod(corev1.PodRunning), nil, t0.Add(59*time.Minute), &prog, lim); done {
		t.Fatal("ended before its max run time")
	}
	out, done := Classify(driverPod(corev1.PodRunning), nil, t0.Add(time.Hour), &prog, lim)
	if !done || out.Outcome != OutcomeMaxRunTime || !strings.Contains(out.Reason, "1h0m0s") {
		t.Fatalf("done=%v outcome=%q reason=%q, want %s naming 1h0m0s", done, out.Outcome, out.Reason, OutcomeMaxRunTime)
	}
	// No bound by default: a week-long job is not ended.
	var long Progress
	if _, done := Classify(driverPod(corev1.PodRunning), nil, t0, &long, Limits{}); done {
		t.Fatal("ended")
	}
	if _, done := Classify(driverPod(corev1.PodRunning), nil, t0.Add(7*24*time.Hour), &long, Limits{}); done {
		t.Fatal("a job without maxRunTime was ended after a week")
	}
}

func TestSucceededDriverHandsOnItsTerminationMessage(t *testing.T) {
	withMessage := func(msg string) func(*corev1.Pod) {
		return func(p *corev1.Pod) { p.Status.ContainerStatuses[0].State.Terminated.Message = msg }
	}
	e, done := Classify(driverPod(corev1.PodSucceeded, terminated(0, "Completed"), withMessage(`{"rows": 42}`)), nil, time.Now(), &Progress{}, Limits{})
	if !done || e.Outcome != OutcomeSucceeded || e.Output != `{"rows": 42}` {
		t.Errorf("succeeded driver: %+v", e)
	}
	// A failed driver's message is the kubelet's or the log tail: not an output.
	e, _ = Classify(driverPod(corev1.PodFailed, terminated(3, "Error"), withMessage("Exception in thread main")), nil, time.Now(), &Progress{}, Limits{})
	if e.Output != "" {
		t.Errorf("failed driver has output %q", e.Output)
	}
}
