package emulator

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestTerminateWritesWhatAKubeletWould(t *testing.T) {
	tests := []struct {
		t         Termination
		wantPhase corev1.PodPhase
	}{
		{terminationFor(0, ""), corev1.PodSucceeded},
		{terminationFor(3, ""), corev1.PodFailed},
		{oomKilled, corev1.PodFailed},
	}
	for _, tt := range tests {
		t.Run(tt.t.Reason, func(t *testing.T) {
			pod := newDriver("ns", "spark-pi-driver").build()
			pod.Status = corev1.PodStatus{
				Phase: corev1.PodRunning, PodIP: "10.0.0.9",
				Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
				ContainerStatuses: []corev1.ContainerStatus{{
					Name: DriverContainerName, Ready: true,
					State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}},
				}},
			}
			client := fake.NewClientset(pod)
			if _, err := terminate(context.Background(), client, "ns", pod.Name, tt.t); err != nil {
				t.Fatalf("terminate: %v", err)
			}
			got, err := client.CoreV1().Pods("ns").Get(context.Background(), pod.Name, metav1.GetOptions{})
			if err != nil {
				t.Fatalf("get pod: %v", err)
			}
			if got.Status.Phase != tt.wantPhase {
				t.Errorf("phase = %s, want %s", got.Status.Phase, tt.wantPhase)
			}
			if got.Status.PodIP != "10.0.0.9" {
				t.Errorf("podIP = %q, want it kept (kwok's pod-create stage matches pods without one)", got.Status.PodIP)
			}
			cs := got.Status.ContainerStatuses
			if len(cs) != 1 || cs[0].State.Terminated == nil || cs[0].Ready {
				t.Fatalf("container statuses = %+v, want one terminated, not ready", cs)
			}
			if term := cs[0].State.Terminated; term.ExitCode != tt.t.ExitCode || term.Reason != tt.t.Reason {
				t.Errorf("terminated = exit %d reason %s, want exit %d reason %s", term.ExitCode, term.Reason, tt.t.ExitCode, tt.t.Reason)
			}
			for _, c := range got.Status.Conditions {
				if c.Type == corev1.PodReady && c.Status != corev1.ConditionFalse {
					t.Errorf("Ready condition = %s, want False", c.Status)
				}
			}
		})
	}
}
