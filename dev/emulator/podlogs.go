package emulator

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
)

// kwokLogs is kwok's Logs resource: a pod's log file, which kwok's kubelet stand-in serves to
// the API server (`kubectl logs`, with -f). The cluster must be created with
// `kwokctl create cluster --enable-crds=Logs`.
var kwokLogs = schema.GroupVersionResource{Group: "kwok.x-k8s.io", Version: "v1alpha1", Resource: "logs"}

// PodLogs writes what an emulated container prints, one file per pod under Dir in the CRI log
// format kwok reads, and names each file in a kwok Logs object owned by its pod.
type PodLogs struct {
	Dir     string
	Dynamic dynamic.Interface

	mu   sync.Mutex
	made map[types.UID]string // pod → its file
	gone map[types.UID]bool   // deleted pods: their file is never made again
}

// Printf appends one line to pod's log. Errors are returned for the caller to log: a log
// that cannot be written never changes how the emulated driver ends.
func (l *PodLogs) Printf(ctx context.Context, pod *corev1.Pod, format string, args ...any) error {
	if l == nil || l.Dir == "" {
		return nil
	}
	path, err := l.file(ctx, pod)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = fmt.Fprintf(f, "%s stdout F %s\n", time.Now().UTC().Format(time.RFC3339Nano), fmt.Sprintf(format, args...))
	return err
}

// file makes pod's log file and its Logs object once, the file first: kwok must find it.
func (l *PodLogs) file(ctx context.Context, pod *corev1.Pod) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if p, ok := l.made[pod.UID]; ok {
		return p, nil
	}
	if l.gone[pod.UID] {
		return "", fmt.Errorf("pod %s/%s was deleted", pod.Namespace, pod.Name)
	}
	dir, err := filepath.Abs(filepath.Join(l.Dir, pod.Namespace))
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, pod.Name+"-"+string(pod.UID)+".log")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return "", err
	}
	_ = f.Close()
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Logs",
		"metadata": map[string]any{"name": pod.Name, "namespace": pod.Namespace},
		"spec":     map[string]any{"logs": []any{map[string]any{"logsFile": path}}},
	}}
	obj.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID}})
	if _, err := l.Dynamic.Resource(kwokLogs).Namespace(pod.Namespace).Create(ctx, obj, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return "", fmt.Errorf("create kwok Logs for %s/%s (is the cluster made with --enable-crds=Logs?): %w", pod.Namespace, pod.Name, err)
	}
	if l.made == nil {
		l.made = map[types.UID]string{}
	}
	l.made[pod.UID] = path
	return path, nil
}

// forget drops a deleted pod's file.
func (l *PodLogs) forget(uid types.UID) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if p, ok := l.made[uid]; ok {
		_ = os.Remove(p)
		delete(l.made, uid)
	}
	if l.gone == nil {
		l.gone = map[types.UID]bool{}
	}
	l.gone[uid] = true
}
