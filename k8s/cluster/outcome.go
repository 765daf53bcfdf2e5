package cluster

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kindling-dev/kindling/k8s/job"
)

// Outcomes of one attempt, as Classify names them.
const (
	OutcomeSucceeded     = "Succeeded"
	OutcomeAppFailed     = "AppFailed" // driver exited non-zero
	OutcomeOOMKilled     = "OOMKilled" // driver container OOMKilled (137)
	OutcomeEvicted       = "Evicted"
	OutcomeImagePull     = "ImagePullFailed"
	OutcomeMissingConfig = "MissingConfig" // a ConfigMap or Secret the pod mounts is missing
	OutcomeUnschedulable = "Unschedulable"
	OutcomeDriverDeleted = "DriverDeleted"
	OutcomeMaxRunTime    = "MaxRunTimeExceeded" // the job's spark.kindling.maxRunTime passed
)

// Limits bound how long a driver may wait before its attempt fails.
type Limits struct {
	StartTimeout     time.Duration // unscheduled
	ImagePullTimeout time.Duration // waiting on its image
	MaxRunTime       time.Duration // since supervision began; 0: no bound
}

// Progress is the compact state of an attempt while it runs: what a supervisor reports, and
// resumes from after a restart.
type Progress struct {
	DriverPhase       string
	DriverNode        string `json:",omitempty"`
	ExecutorsRunning  int
	ExecutorsPending  int
	ExecutorsFailed   int
	PendingSince      time.Time
	ImageWaitingSince time.Time
	LastReason        string
	// SupervisedSince is when supervision of the attempt began, for Limits.MaxRunTime.
	SupervisedSince time.Time `json:",omitempty"`
	// The UIDs of every executor seen failed, and OOMKilled, during the attempt: Spark
	// deletes failed executors, so a count of the pods present forgets them.
	FailedExecutors    []string `json:",omitempty"`
	OOMKilledExecutors []string `json:",omitempty"`
}

// RememberLost records a failed executor for the rest of the attempt.
func (p *Progress) RememberLost(uid string, oomKilled bool) {
	p.FailedExecutors = remember(p.FailedExecutors, uid)
	if oomKilled {
		p.OOMKilledExecutors = remember(p.OOMKilledExecutors, uid)
	}
}

// ExecutorFailure tells whether an executor pod has failed, and whether it was OOMKilled: phase
// Failed, or (restartPolicy Never) a container that ended non-zero while the pod still runs.
func ExecutorFailure(p *corev1.Pod) (failed, oomKilled bool) {
	switch p.Status.Phase {
	case corev1.PodRunning:
		if t := terminatedNonZero(p); t != nil {
			return true, t.Reason == "OOMKilled"
		}
	case corev1.PodFailed:
		t := sparkContainerTerminated(p, "")
		return true, t != nil && t.Reason == "OOMKilled"
	}
	return false, false
}

// remember adds uid to a sorted set.
func remember(set []string, uid string) []string {
	i, found := slices.BinarySearch(set, uid)
	if found {
		return set
	}
	return slices.Insert(set, i, uid)
}

// Ending is how an attempt ended and why, in words a person understands.
type Ending struct {
	Outcome  string // one of Outcome*
	Reason   string // for a person: "app failed with exit code 3", …
	ExitCode int32
	// Executor OOMKills seen during the attempt (the next attempt raises executor memory).
	ExecutorOOMKills int
	Progress         Progress
	// Output is the driver container's termination message when it succeeded: what a driver
	// writes to /dev/termination-log (Kubernetes keeps at most 4096 bytes).
	Output string `json:",omitempty"`
	// LogTail is the end of the driver's log when the attempt failed (at most LogTailLines
	// lines and LogTailBytes bytes), so the result says why without the pod.
	LogTail string `json:",omitempty"`
}

// How much of a failed driver's log its attempt keeps.
const (
	LogTailLines = 20
	LogTailBytes = 4096
)

// LogTail reads the end of a pod's container log, bounded; "" when it cannot be read.
func LogTail(ctx context.Context, kube kubernetes.Interface, namespace, pod, container string) string {
	lines, limit := int64(LogTailLines), int64(LogTailBytes)
	b, err := kube.CoreV1().Pods(namespace).GetLogs(pod, &corev1.PodLogOptions{Container: container, TailLines: &lines, LimitBytes: &limit}).DoRaw(ctx)
	if err != nil {
		return ""
	}
	return string(b)
}

// Classify reads the driver and its executors and says whether the attempt has ended and
// why. It updates prog (counts, timers) in place. Pure: tests drive it with pods.
func Classify(driver *corev1.Pod, execs []*corev1.Pod, now time.Time, prog *Progress, lim Limits) (Ending, bool) {
	prog.DriverPhase = string(driver.Status.Phase)
	if driver.Spec.NodeName != "" {
		prog.DriverNode = driver.Spec.NodeName
	}
	if prog.SupervisedSince.IsZero() {
		prog.SupervisedSince = now
	}
	prog.ExecutorsRunning, prog.ExecutorsPending = 0, 0
	for _, e := range execs {
		if failed, oom := ExecutorFailure(e); failed {
			prog.RememberLost(string(e.UID), oom)
			continue
		}
		switch e.Status.Phase {
		case corev1.PodRunning:
			prog.ExecutorsRunning++
		case corev1.PodPending:
			prog.ExecutorsPending++
		}
	}
	// Spark deletes failed executors: the sets remember them for the whole attempt.
	prog.ExecutorsFailed = max(prog.ExecutorsFailed, len(prog.FailedExecutors))
	out := func(outcome, reason string, code int32) (Ending, bool) {
		prog.LastReason = reason
		return Ending{Outcome: outcome, Reason: reason, ExitCode: code, ExecutorOOMKills: len(prog.OOMKilledExecutors), Progress: *prog}, true
	}
	// Sidecars may keep the pod Running after Spark's container ended: the operator, and
	// Kindling, decide by the driver container.
	if driver.Status.Phase == corev1.PodRunning && len(driver.Spec.Containers) > 1 {
		if t := containerTerminated(driver, job.DriverContainerName); t != nil {
			switch {
			case t.ExitCode == 0:
				e, done := out(OutcomeSucceeded, "succeeded (its sidecars were still running)", 0)
				e.Output = t.Message
				return e, done
			case t.Reason == "OOMKilled":
				return out(OutcomeOOMKilled, fmt.Sprintf("driver was OOMKilled (exit code %d): its memory limit is too low", t.ExitCode), t.ExitCode)
			}
			return out(OutcomeAppFailed, fmt.Sprintf("app failed with exit code %d%s", t.ExitCode, reasonSuffix(t)), t.ExitCode)
		}
	}
	if lim.MaxRunTime > 0 && now.Sub(prog.SupervisedSince) >= lim.MaxRunTime &&
		driver.Status.Phase != corev1.PodSucceeded && driver.Status.Phase != corev1.PodFailed {
		return out(OutcomeMaxRunTime, fmt.Sprintf("ran longer than its maximum run time of %s (%s)", lim.MaxRunTime, job.ConfMaxRunTime), 0)
	}

	if driver.DeletionTimestamp != nil && driver.Status.Phase != corev1.PodSucceeded && driver.Status.Phase != corev1.PodFailed {
		return out(OutcomeDriverDeleted, "driver pod "+driver.Name+" is being deleted"+why(driver), 0)
	}
	switch driver.Status.Phase {
	case corev1.PodSucceeded:
		e, done := out(OutcomeSucceeded, "succeeded", 0)
		if t := sparkContainerTerminated(driver, job.DriverContainerName); t != nil {
			e.Output = t.Message
		}
		return e, done
	case corev1.PodFailed:
		if driver.Status.Reason == "Evicted" {
			return out(OutcomeEvicted, "driver pod was evicted: "+driver.Status.Message, 0)
		}
		t := sparkContainerTerminated(driver, job.DriverContainerName)
		if t == nil {
			return out(OutcomeAppFailed, "driver pod failed"+why(driver), 0)
		}
		if t.Reason == "OOMKilled" {
			return out(OutcomeOOMKilled, fmt.Sprintf("driver was OOMKilled (exit code %d): its memory limit is too low", t.ExitCode), t.ExitCode)
		}
		return out(OutcomeAppFailed, fmt.Sprintf("app failed with exit code %d%s", t.ExitCode, reasonSuffix(t)), t.ExitCode)
	case corev1.PodPending:
		if prog.PendingSince.IsZero() {
			prog.PendingSince = now
		}
		if w := waitingReason(driver); w != nil {
			switch w.Reason {
			case "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull":
				if prog.ImageWaitingSince.IsZero() {
					prog.ImageWaitingSince = now
				}
				prog.LastReason = fmt.Sprintf("%s: %s", w.Reason, w.Message)
				if w.Reason == "InvalidImageName" || now.Sub(prog.ImageWaitingSince) >= lim.ImagePullTimeout {
					return out(OutcomeImagePull, fmt.Sprintf("image %s cannot be pulled (%s for %s)",
						containerImage(driver), w.Reason, now.Sub(prog.ImageWaitingSince).Round(time.Second)), 0)
				}
			case "CreateContainerConfigError":
				return out(OutcomeMissingConfig, "driver cannot start: "+w.Message, 0)
			}
		}
		if c := scheduledCondition(driver); c != nil && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			prog.LastReason = "unschedulable: " + c.Message
			if now.Sub(prog.PendingSince) >= lim.StartTimeout {
				return out(OutcomeUnschedulable, fmt.Sprintf("driver pod could not be scheduled for %s: %s",
					now.Sub(prog.PendingSince).Round(time.Second), c.Message), 0)
			}
		}
		// No scheduler has looked at it at all: the one its schedulerName names (Volcano,
		// YuniKorn, …) is not running.
		if scheduledCondition(driver) == nil && driver.Spec.NodeName == "" && now.Sub(prog.PendingSince) >= lim.StartTimeout {
			return out(OutcomeUnschedulable, fmt.Sprintf("driver pod was not scheduled for %s: no scheduler has taken it (schedulerName %q: is that scheduler running?)",
				now.Sub(prog.PendingSince).Round(time.Second), schedulerName(driver)), 0)
		}
	case corev1.PodRunning:
		prog.PendingSince, prog.ImageWaitingSince = time.Time{}, time.Time{}
		prog.LastReason = "" // the phase and executor counts say it all
	}
	return Ending{}, false
}

// why says what Kubernetes gave as the reason a pod failed or goes away, and on which node:
// the pod's reason and message, and a DisruptionTarget condition (PodGC on a deleted node,
// preemption, eviction by taint).
func why(p *corev1.Pod) string {
	var parts []string
	if p.Status.Reason != "" {
		parts = append(parts, p.Status.Reason)
	}
	if p.Status.Message != "" {
		parts = append(parts, p.Status.Message)
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.DisruptionTarget && c.Status == corev1.ConditionTrue {
			parts = append(parts, strings.TrimSpace(c.Reason+" "+c.Message))
		}
	}
	s := ""
	if len(parts) > 0 {
		s = ": " + strings.Join(parts, "; ")
	}
	if p.Spec.NodeName != "" {
		s += " (node " + p.Spec.NodeName + ")"
	}
	return s
}

// containerTerminated is the named container's termination, or nil while it runs.
func containerTerminated(p *corev1.Pod, name string) *corev1.ContainerStateTerminated {
	for _, cs := range p.Status.ContainerStatuses {
		if cs.Name == name {
			return cs.State.Terminated
		}
	}
	return nil
}

func reasonSuffix(t *corev1.ContainerStateTerminated) string {
	if t.Message != "" {
		return ": " + t.Message
	}
	if t.Reason != "" && t.Reason != "Error" {
		return " (" + t.Reason + ")"
	}
	return ""
}

// sparkContainerTerminated finds the Spark container's termination (by name, else the first).
func sparkContainerTerminated(p *corev1.Pod, name string) *corev1.ContainerStateTerminated {
	var first *corev1.ContainerStateTerminated
	for i, cs := range p.Status.ContainerStatuses {
		t := cs.State.Terminated
		if t == nil {
			t = cs.LastTerminationState.Terminated
		}
		if name != "" && cs.Name == name {
			return t
		}
		if i == 0 {
			first = t
		}
	}
	return first
}

func terminatedNonZero(p *corev1.Pod) *corev1.ContainerStateTerminated {
	for _, cs := range p.Status.ContainerStatuses {
		if t := cs.State.Terminated; t != nil && t.ExitCode != 0 {
			return t
		}
	}
	return nil
}

func waitingReason(p *corev1.Pod) *corev1.ContainerStateWaiting {
	for _, cs := range p.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil && w.Reason != "" && w.Reason != "ContainerCreating" && w.Reason != "PodInitializing" {
			return w
		}
	}
	return nil
}

func schedulerName(p *corev1.Pod) string {
	if p.Spec.SchedulerName == "" {
		return corev1.DefaultSchedulerName
	}
	return p.Spec.SchedulerName
}

func scheduledCondition(p *corev1.Pod) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == corev1.PodScheduled {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

func containerImage(p *corev1.Pod) string {
	for _, c := range p.Spec.Containers {
		if c.Name == job.DriverContainerName {
			return c.Image
		}
	}
	if len(p.Spec.Containers) > 0 {
		return p.Spec.Containers[0].Image
	}
	return ""
}

// DriverGone reads the driver from the API server, never from the cache: only a fresh
// NotFound (or a different pod under the name) proves it is gone.
func DriverGone(ctx context.Context, kube kubernetes.Interface, namespace, name, uid string) (bool, error) {
	p, err := kube.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return uid != "" && string(p.UID) != uid, nil
}

// MissingConfig names the ConfigMaps and Secrets a pod mounts or reads that do not exist.
// ConfigMaps are looked up; Secrets never are (a worker has no right to read them): a missing
// Secret shows in the kubelet's FailedMount events on the pod (`secret "db" not found`), and
// one read by env in the container's CreateContainerConfigError, which Classify reads.
func MissingConfig(ctx context.Context, kube kubernetes.Interface, pod *corev1.Pod) string {
	var missing []string
	check := func(kind, name string, optional *bool) {
		if kind != "ConfigMap" || name == "" || (optional != nil && *optional) {
			return
		}
		if _, err := kube.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, name, metav1.GetOptions{}); apierrors.IsNotFound(err) {
			missing = append(missing, kind+" "+name)
		}
	}
	events, err := kube.CoreV1().Events(pod.Namespace).List(ctx, metav1.ListOptions{
		FieldSelector: "involvedObject.uid=" + string(pod.UID) + ",reason=FailedMount"})
	if err == nil {
		for _, e := range events.Items {
			if e.InvolvedObject.UID != pod.UID || e.Reason != "FailedMount" {
				continue
			}
			if m := secretNotFound.FindStringSubmatch(e.Message); m != nil {
				missing = append(missing, "Secret "+m[1])
			}
		}
	}
	for _, v := range pod.Spec.Volumes {
		if v.ConfigMap != nil {
			check("ConfigMap", v.ConfigMap.Name, v.ConfigMap.Optional)
		}
		if v.Secret != nil {
			check("Secret", v.Secret.SecretName, v.Secret.Optional)
		}
	}
	for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		for _, e := range c.EnvFrom {
			if e.ConfigMapRef != nil {
				check("ConfigMap", e.ConfigMapRef.Name, e.ConfigMapRef.Optional)
			}
			if e.SecretRef != nil {
				check("Secret", e.SecretRef.Name, e.SecretRef.Optional)
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				continue
			}
			if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
				check("ConfigMap", r.Name, r.Optional)
			}
			if r := e.ValueFrom.SecretKeyRef; r != nil {
				check("Secret", r.Name, r.Optional)
			}
		}
	}
	if len(missing) == 0 {
		return ""
	}
	return fmt.Sprintf("driver pod %s cannot start: %s not found in namespace %s",
		pod.Name, strings.Join(dedupe(missing), ", "), pod.Namespace)
}

// secretNotFound is the kubelet's message for a missing Secret volume
// (MountVolume.SetUp failed for volume "x" : secret "db" not found).
var secretNotFound = regexp.MustCompile(`secret "([^"]+)" not found`)

func dedupe(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
