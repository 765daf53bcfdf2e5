package cluster

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	listersv1 "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/kindling-dev/kindling/k8s/job"
)

// PodWatch is the one pod informer a worker shares between all the jobs it supervises:
// it follows every pod that carries Spark's app label, so a thousand jobs cost one watch,
// not a thousand. Supervisors read its cache and subscribe to wake-ups for their app.
type PodWatch struct {
	lister   listersv1.PodLister
	informer cache.SharedIndexInformer
	factory  informers.SharedInformerFactory

	mu   sync.Mutex
	subs map[string]map[chan struct{}]struct{} // app id → wake-up channels
	// lost holds, per app until its driver is deleted, the executors seen failed as events
	// passed: Spark deletes a failed executor at once, often before a supervisor looks at the
	// cache, or even before the supervisor of a fresh attempt has subscribed.
	lost map[string]map[string]bool // app → executor UID → OOMKilled
}

const byAppIndex = "spark-app-selector"

// NewPodWatch builds the informer over namespace ("" = all), selecting pods with a
// spark-app-selector label. Every resync the informer replays its cached pods as updates,
// which wakes every supervisor for a look; it reads nothing new from the API server (the
// watch itself re-lists when it breaks).
func NewPodWatch(cs kubernetes.Interface, namespace string, resync time.Duration) (*PodWatch, error) {
	factory := informers.NewSharedInformerFactoryWithOptions(cs, resync,
		informers.WithNamespace(namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = job.LabelSparkAppID }),
	)
	inf := factory.Core().V1().Pods()
	w := &PodWatch{
		lister:   inf.Lister(),
		informer: inf.Informer(),
		factory:  factory,
		subs:     map[string]map[chan struct{}]struct{}{},
		lost:     map[string]map[string]bool{},
	}
	// A worker following thousands of executors keeps only what supervision reads.
	if err := w.informer.SetTransform(slim); err != nil {
		return nil, fmt.Errorf("set pod transform: %w", err)
	}
	if err := w.informer.AddIndexers(cache.Indexers{byAppIndex: func(obj any) ([]string, error) {
		p, ok := obj.(*corev1.Pod)
		if !ok {
			return nil, nil
		}
		return []string{p.Namespace + "/" + p.Labels[job.LabelSparkAppID]}, nil
	}}); err != nil {
		return nil, fmt.Errorf("add pod index: %w", err)
	}
	notify := func(obj any) {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		if p, ok := obj.(*corev1.Pod); ok {
			key := p.Namespace + "/" + p.Labels[job.LabelSparkAppID]
			if p.Labels[job.LabelSparkRole] == job.SparkRoleExecutor {
				if failed, oom := ExecutorFailure(p); failed {
					w.recordLost(key, string(p.UID), oom)
				}
			}
			w.wake(key)
		}
	}
	if _, err := w.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    notify,
		UpdateFunc: func(_, obj any) { notify(obj) },
		DeleteFunc: func(obj any) {
			notify(obj)
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			// The app is over once its driver is gone: forget its lost executors.
			if p, ok := obj.(*corev1.Pod); ok && p.Labels[job.LabelSparkRole] == job.SparkRoleDriver {
				w.forgetLost(p.Namespace + "/" + p.Labels[job.LabelSparkAppID])
			}
		},
	}); err != nil {
		return nil, fmt.Errorf("add pod handler: %w", err)
	}
	return w, nil
}

// Len is how many Spark pods (drivers and executors, of every job) the watch holds.
func (w *PodWatch) Len() int { return len(w.informer.GetStore().ListKeys()) }

// Start runs the informer until run ends, and waits (until wait ends) for its first full list.
func (w *PodWatch) Start(run, wait context.Context) error {
	w.factory.Start(run.Done())
	if !cache.WaitForCacheSync(wait.Done(), w.informer.HasSynced) {
		return fmt.Errorf("pod watch: cache did not sync: %w", wait.Err())
	}
	return nil
}

// Pod returns the cached pod, or nil when the cache has none. A nil is not proof the pod
// is gone: callers confirm with a fresh read from the API server.
func (w *PodWatch) Pod(namespace, name string) *corev1.Pod {
	p, err := w.lister.Pods(namespace).Get(name)
	if err != nil {
		return nil
	}
	return p
}

// AppPods returns the cached pods of one Spark application, driver and executors.
func (w *PodWatch) AppPods(namespace, appID string) []*corev1.Pod {
	objs, err := w.informer.GetIndexer().ByIndex(byAppIndex, namespace+"/"+appID)
	if err != nil {
		return nil
	}
	pods := make([]*corev1.Pod, 0, len(objs))
	for _, o := range objs {
		if p, ok := o.(*corev1.Pod); ok {
			pods = append(pods, p)
		}
	}
	return pods
}

// Selected returns the cached Spark pods in namespace that sel matches (a session's
// executors, by its label).
func (w *PodWatch) Selected(namespace string, sel labels.Selector) []*corev1.Pod {
	pods, err := w.lister.Pods(namespace).List(sel)
	if err != nil {
		return nil
	}
	return pods
}

// Executors returns the cached executor pods of an application.
func (w *PodWatch) Executors(namespace, appID string) []*corev1.Pod {
	sel := labels.SelectorFromSet(labels.Set{job.LabelSparkAppID: appID, job.LabelSparkRole: job.SparkRoleExecutor})
	var out []*corev1.Pod
	for _, p := range w.AppPods(namespace, appID) {
		if sel.Matches(labels.Set(p.Labels)) {
			out = append(out, p)
		}
	}
	return out
}

// Subscribe returns a channel that receives (without blocking the informer) whenever a
// pod of the application changes; call the returned func to stop.
func (w *PodWatch) Subscribe(namespace, appID string) (<-chan struct{}, func()) {
	key := namespace + "/" + appID
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	if w.subs[key] == nil {
		w.subs[key] = map[chan struct{}]struct{}{}
	}
	w.subs[key][ch] = struct{}{}
	w.mu.Unlock()
	return ch, func() {
		w.mu.Lock()
		delete(w.subs[key], ch)
		if len(w.subs[key]) == 0 {
			delete(w.subs, key)
		}
		w.mu.Unlock()
	}
}

// LostExecutors returns the executors of an app seen failed while its driver exists, by UID,
// with whether each was OOMKilled.
func (w *PodWatch) LostExecutors(namespace, appID string) map[string]bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return maps.Clone(w.lost[namespace+"/"+appID])
}

func (w *PodWatch) recordLost(key, uid string, oom bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.lost[key] == nil {
		w.lost[key] = map[string]bool{}
	}
	w.lost[key][uid] = w.lost[key][uid] || oom
}

// ForgetApp drops what the watch remembers of an application whose pods are gone for good
// (a session's executors: client mode has no driver pod whose deletion would do it).
func (w *PodWatch) ForgetApp(namespace, appID string) {
	if appID != "" {
		w.forgetLost(namespace + "/" + appID)
	}
}

func (w *PodWatch) forgetLost(key string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.lost, key)
}

func (w *PodWatch) wake(key string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ch := range w.subs[key] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// slim strips a pod of what supervision never reads before the cache keeps it: managed fields
// and annotations (but the delete-after of a kept driver) on every pod, and on executors their volumes, init containers, scheduling
// constraints and containers' env, mounts, commands and resources (the driver keeps its
// volumes and env: a Pending driver's missing ConfigMaps and Secrets are found through them).
func slim(obj any) (any, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	p.ManagedFields = nil
	keep := p.Annotations[job.AnnotationDeleteAfter]
	p.Annotations = nil
	if keep != "" {
		p.Annotations = map[string]string{job.AnnotationDeleteAfter: keep}
	}
	if p.Labels[job.LabelSparkRole] != job.SparkRoleExecutor {
		return p, nil
	}
	p.Spec.Volumes, p.Spec.InitContainers = nil, nil
	p.Spec.Affinity, p.Spec.Tolerations, p.Spec.NodeSelector = nil, nil, nil
	for i := range p.Spec.Containers {
		c := &p.Spec.Containers[i]
		c.Env, c.EnvFrom, c.VolumeMounts, c.Args, c.Command = nil, nil, nil, nil, nil
		c.Resources = corev1.ResourceRequirements{}
	}
	p.Status.InitContainerStatuses = nil
	return p, nil
}

// Expired lists the cached pods whose delete-after annotation (job.AnnotationDeleteAfter) is
// at or before now: a finished job's kept driver whose time to live has ended.
func (w *PodWatch) Expired(now time.Time) []*corev1.Pod {
	var out []*corev1.Pod
	for _, obj := range w.informer.GetStore().List() {
		p, ok := obj.(*corev1.Pod)
		if !ok {
			continue
		}
		if t, ok := DeleteAfter(p.ObjectMeta); ok && !t.After(now) {
			out = append(out, p)
		}
	}
	return out
}

// KeptRuns is the set of run labels (job.LabelRun) of the cached pods in namespace that carry
// a delete-after mark: the finished runs whose objects are still kept.
func (w *PodWatch) KeptRuns(namespace string) map[string]bool {
	out := map[string]bool{}
	for _, obj := range w.informer.GetStore().List() {
		p, ok := obj.(*corev1.Pod)
		if !ok || p.Namespace != namespace {
			continue
		}
		if _, kept := DeleteAfter(p.ObjectMeta); kept && p.Labels[job.LabelRun] != "" {
			out[p.Labels[job.LabelRun]] = true
		}
	}
	return out
}
