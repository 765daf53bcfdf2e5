package emulator

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// Termination is how a pod's containers end.
type Termination struct {
	ExitCode int32
	Reason   string // Completed, Error, OOMKilled
	Message  string
	// SidecarsKeepRunning ends only the Spark container; the pod stays Running.
	SidecarsKeepRunning bool
}

// terminationFor picks the kubelet's reason for an exit code.
func terminationFor(exitCode int32, message string) Termination {
	t := Termination{ExitCode: exitCode, Reason: "Completed", Message: message}
	if exitCode != 0 {
		t.Reason = "Error"
	}
	return t
}

var oomKilled = Termination{ExitCode: 137, Reason: "OOMKilled", Message: "container memory limit exceeded (emulated)"}

// terminate writes a terminal status through the status subresource, as a kubelet would:
// every container terminated, not ready, phase Succeeded only when the exit code is 0.
// kwok's stages match only Pending pods (pod-ready) or Job-owned Running pods (pod-complete),
// so they leave a terminal pod alone; the podIP it set stays, which keeps its pod-create stage
// (in the general stage set) from matching too.
func terminate(ctx context.Context, client kubernetes.Interface, namespace, name string, t Termination) (*corev1.Pod, error) {
	var out *corev1.Pod
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		pod, err := client.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if isTerminal(pod) {
			out = pod
			return nil
		}
		now := metav1.NewTime(time.Now())
		spark := driverContainer(pod)
		if t.SidecarsKeepRunning && spark != nil {
			pod.Status.ContainerStatuses = containerStatuses(pod, func(c corev1.Container, old corev1.ContainerStatus) corev1.ContainerStatus {
				if c.Name != spark.Name {
					return old
				}
				return endedStatus(old, t, now)
			})
			setCondition(pod, corev1.PodReady, corev1.ConditionFalse, "ContainersNotReady", now)
			setCondition(pod, corev1.ContainersReady, corev1.ConditionFalse, "ContainersNotReady", now)
			out, err = client.CoreV1().Pods(namespace).UpdateStatus(ctx, pod, metav1.UpdateOptions{})
			return err
		}
		pod.Status.Phase = corev1.PodSucceeded
		if t.ExitCode != 0 {
			pod.Status.Phase = corev1.PodFailed
		}
		pod.Status.Message = t.Message
		pod.Status.Reason = ""
		setCondition(pod, corev1.PodReady, corev1.ConditionFalse, "PodCompleted", now)
		setCondition(pod, corev1.ContainersReady, corev1.ConditionFalse, "PodCompleted", now)
		pod.Status.ContainerStatuses = containerStatuses(pod, func(_ corev1.Container, old corev1.ContainerStatus) corev1.ContainerStatus {
			return endedStatus(old, t, now)
		})
		out, err = client.CoreV1().Pods(namespace).UpdateStatus(ctx, pod, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("end pod %s/%s with exit code %d (%s): %w", namespace, name, t.ExitCode, t.Reason, err)
	}
	return out, nil
}

// endedStatus is a container's status once it ended as t says.
func endedStatus(old corev1.ContainerStatus, t Termination, now metav1.Time) corev1.ContainerStatus {
	started := now
	if old.State.Running != nil {
		started = old.State.Running.StartedAt
	}
	old.Ready = false
	old.Started = new(false)
	old.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode:   t.ExitCode,
		Reason:     t.Reason,
		Message:    t.Message,
		StartedAt:  started,
		FinishedAt: now,
	}}
	return old
}

// setWaiting puts the pod's containers in Waiting with reason, phase Pending, as the kubelet
// reports an image it cannot pull.
func setWaiting(ctx context.Context, client kubernetes.Interface, namespace, name, reason, message string) error {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		pod, err := client.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if pod.Status.Phase != corev1.PodPending || pod.DeletionTimestamp != nil {
			return nil
		}
		now := metav1.NewTime(time.Now())
		setCondition(pod, corev1.PodReady, corev1.ConditionFalse, "ContainersNotReady", now)
		setCondition(pod, corev1.ContainersReady, corev1.ConditionFalse, "ContainersNotReady", now)
		pod.Status.ContainerStatuses = containerStatuses(pod, func(c corev1.Container, old corev1.ContainerStatus) corev1.ContainerStatus {
			old.Ready = false
			old.Started = new(false)
			old.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: message}}
			return old
		})
		_, err = client.CoreV1().Pods(namespace).UpdateStatus(ctx, pod, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("set containers of pod %s/%s waiting with %s: %w", namespace, name, reason, err)
	}
	return nil
}

// containerStatuses returns one status per spec container, each passed through f with its
// previous status (or a fresh one).
func containerStatuses(pod *corev1.Pod, f func(corev1.Container, corev1.ContainerStatus) corev1.ContainerStatus) []corev1.ContainerStatus {
	out := make([]corev1.ContainerStatus, 0, len(pod.Spec.Containers))
	for _, c := range pod.Spec.Containers {
		old := corev1.ContainerStatus{Name: c.Name, Image: c.Image}
		for _, s := range pod.Status.ContainerStatuses {
			if s.Name == c.Name {
				old = s
			}
		}
		out = append(out, f(c, old))
	}
	return out
}

func setCondition(pod *corev1.Pod, typ corev1.PodConditionType, status corev1.ConditionStatus, reason string, now metav1.Time) {
	for i := range pod.Status.Conditions {
		c := &pod.Status.Conditions[i]
		if c.Type == typ {
			if c.Status != status {
				c.LastTransitionTime = now
			}
			c.Status, c.Reason = status, reason
			return
		}
	}
	pod.Status.Conditions = append(pod.Status.Conditions, corev1.PodCondition{
		Type: typ, Status: status, Reason: reason, LastTransitionTime: now,
	})
}

func isTerminal(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
}

// waitingReason is the Waiting reason of Spark's container in pod, or "".
func waitingReason(pod *corev1.Pod) string {
	c := driverContainer(pod)
	if c == nil {
		return ""
	}
	for _, s := range pod.Status.ContainerStatuses {
		if s.Name == c.Name && s.State.Waiting != nil {
			return s.State.Waiting.Reason
		}
	}
	return ""
}

// Succeed ends a running driver as a Spark driver that exits 0 does (its executors are left
// to whoever supervises it). make bench ends drivers at times it chooses with it.
func Succeed(ctx context.Context, client kubernetes.Interface, namespace, name string) error {
	_, err := terminate(ctx, client, namespace, name, terminationFor(0, ""))
	return err
}
