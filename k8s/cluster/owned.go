package cluster

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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
