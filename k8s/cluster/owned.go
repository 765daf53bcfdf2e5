package cluster

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/k8s/render"
)

// Run is one workflow run's objects in the cluster, as its labels and annotations say.
type Run struct {
	Namespace  string
	WorkflowID string
	RunID      string // "" for runs recorded before runs had their own identity
	RunLabel   string // the kindling.dev/run label: its selector finds every attempt
	// App names the SparkApplication the run's objects belong to, in controller mode: the
	// object's lifetime, not the run's, decides when they go.
	App     string
	Objects []string
	// DeleteAfter, when set, is the latest delete-after of the run's objects: a finished job
	// keeps them until then for its time to live.
	DeleteAfter time.Time
}

// Selector selects every object of the run, all attempts.
func (r Run) Selector() string { return job.LabelRun + "=" + r.RunLabel }

// Runs lists the runs that have objects in namespace ("" for all): pods, services,
// ConfigMaps and claims labelled managed-by=kindling, grouped by run, sorted.
func (o Objects) Runs(ctx context.Context, namespace string) ([]Run, error) {
	list := metav1.ListOptions{LabelSelector: job.LabelManagedBy + "=" + job.ManagedByValue}
	byRun := map[string]*Run{}
	add := func(kind string, m metav1.ObjectMeta) {
		label := m.Labels[job.LabelRun]
		if label == "" {
			return
		}
		key := m.Namespace + "/" + label
		r := byRun[key]
		if r == nil {
			r = &Run{Namespace: m.Namespace, RunLabel: label}
			byRun[key] = r
		}
		if id := m.Annotations[job.AnnotationWorkflow]; id != "" {
			r.WorkflowID = id
		}
		if id := m.Annotations[job.AnnotationRun]; id != "" {
			r.RunID = id
		}
		if app := m.Labels[render.LabelOperatorAppName]; app != "" {
			r.App = app
		}
		if t, ok := DeleteAfter(m); ok && t.After(r.DeleteAfter) {
			r.DeleteAfter = t
		}
		r.Objects = append(r.Objects, kind+"/"+m.Name)
	}
	core := o.Kube.CoreV1()
	pods, err := core.Pods(namespace).List(ctx, list)
	if err != nil {
		return nil, fmt.Errorf("list Kindling's pods: %w", err)
	}
	for _, p := range pods.Items {
		add("pod", p.ObjectMeta)
	}
	svcs, err := core.Services(namespace).List(ctx, list)
	if err != nil {
		return nil, fmt.Errorf("list Kindling's services: %w", err)
	}
	for _, s := range svcs.Items {
		add("service", s.ObjectMeta)
	}
	cms, err := core.ConfigMaps(namespace).List(ctx, list)
	if err != nil {
		return nil, fmt.Errorf("list Kindling's ConfigMaps: %w", err)
	}
	for _, c := range cms.Items {
		add("configmap", c.ObjectMeta)
	}
	pvcs, err := core.PersistentVolumeClaims(namespace).List(ctx, list)
	if err != nil {
		return nil, fmt.Errorf("list Kindling's claims: %w", err)
	}
	for _, c := range pvcs.Items {
		add("persistentvolumeclaim", c.ObjectMeta)
	}
	out := make([]Run, 0, len(byRun))
	for _, k := range slices.Sorted(maps.Keys(byRun)) {
		r := byRun[k]
		slices.Sort(r.Objects)
		out = append(out, *r)
	}
	return out, nil
}

func (r Run) String() string {
	return fmt.Sprintf("%s/%s (run %s): %s", r.Namespace, r.WorkflowID, r.RunID, strings.Join(r.Objects, ", "))
}

// DeleteAfter reads an object's delete-after annotation; false when it has none (or one
// that is not a time: such an object is not kept by Kindling's rule).
func DeleteAfter(m metav1.ObjectMeta) (time.Time, bool) {
	v := m.Annotations[job.AnnotationDeleteAfter]
	if v == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, v)
	return t, err == nil
}

// Keep marks the objects selector selects in namespace (pods, services, ConfigMaps, claims)
// to be deleted after until, and returns how many it marked. Marking again moves the time.
func (o Objects) Keep(ctx context.Context, namespace, selector string, until time.Time) (int, error) {
	core := o.Kube.CoreV1()
	list := metav1.ListOptions{LabelSelector: selector}
	patch := []byte(fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, job.AnnotationDeleteAfter, until.UTC().Format(time.RFC3339)))
	mp, po := types.MergePatchType, metav1.PatchOptions{}
	kinds := []struct {
		what  string
		list  func() (runtime.Object, error)
		patch func(name string) error
	}{
		{"pods", func() (runtime.Object, error) { return core.Pods(namespace).List(ctx, list) },
			func(n string) error { _, err := core.Pods(namespace).Patch(ctx, n, mp, patch, po); return err }},
		{"services", func() (runtime.Object, error) { return core.Services(namespace).List(ctx, list) },
			func(n string) error { _, err := core.Services(namespace).Patch(ctx, n, mp, patch, po); return err }},
		{"ConfigMaps", func() (runtime.Object, error) { return core.ConfigMaps(namespace).List(ctx, list) },
			func(n string) error { _, err := core.ConfigMaps(namespace).Patch(ctx, n, mp, patch, po); return err }},
		{"claims", func() (runtime.Object, error) { return core.PersistentVolumeClaims(namespace).List(ctx, list) },
			func(n string) error {
				_, err := core.PersistentVolumeClaims(namespace).Patch(ctx, n, mp, patch, po)
				return err
			}},
	}
	n := 0
	for _, k := range kinds {
		l, err := k.list()
		if err != nil {
			return n, fmt.Errorf("list %s with %s: %w", k.what, selector, err)
		}
		items, err := meta.ExtractList(l)
		if err != nil {
			return n, err
		}
		for _, it := range items {
			m, err := meta.Accessor(it)
			if err != nil {
				return n, err
			}
			if err := k.patch(m.GetName()); err != nil && !apierrors.IsNotFound(err) {
				return n, fmt.Errorf("mark %s %s/%s to keep: %w", k.what, namespace, m.GetName(), err)
			}
			n++
		}
	}
	return n, nil
}
