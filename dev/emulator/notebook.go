package emulator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

// A notebook pod in client mode: the pod is the driver, and its Spark reads the settings a
// session handed out (spark-defaults.conf in a ConfigMap the notebook mounts).
const (
	// LabelNotebook marks a pod the emulator plays as a notebook's client-mode driver.
	LabelNotebook = "emulator.kindling.dev/notebook"
	// AnnotationNotebookConf names the ConfigMap of the session's settings (key
	// spark-defaults.conf), as the notebook would mount it.
	AnnotationNotebookConf = "emulator.kindling.dev/notebook-conf"
	// AnnotationNotebookExecutors is how many executors the notebook's Spark asks for.
	AnnotationNotebookExecutors = "emulator.kindling.dev/notebook-executors"
	// labelSession is the label a session puts on the notebook pod; the notebook starts its
	// SparkContext once it is there (the user ran the session's cell).
	labelSession = "kindling.dev/session-driver"
)

// notebooks plays notebooks: once a labelled pod runs and carries a session's label, its
// Spark starts and creates executors from the session's settings, as Spark in client mode
// does (ExecutorPodsAllocator with spark.kubernetes.driver.pod.name set: each executor owned by
// the notebook pod).
type notebooks struct {
	e    *Emulator
	mu   sync.Mutex
	done map[string]bool // pod UID / session: started
}

func (e *Emulator) runNotebooks(ctx context.Context) error {
	opts := []informers.SharedInformerOption{informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = LabelNotebook })}
	if e.cfg.Namespace != "" {
		opts = append(opts, informers.WithNamespace(e.cfg.Namespace))
	}
	factory := informers.NewSharedInformerFactoryWithOptions(e.client, e.cfg.Resync, opts...)
	inf := factory.Core().V1().Pods().Informer()
	n := &notebooks{e: e, done: map[string]bool{}}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { n.see(ctx, obj) },
		UpdateFunc: func(_, obj any) { n.see(ctx, obj) },
	}); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	go func() { <-ctx.Done(); factory.Shutdown() }()
	return nil
}

func (n *notebooks) see(ctx context.Context, obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok || pod.DeletionTimestamp != nil || pod.Status.Phase != corev1.PodRunning || pod.Labels[labelSession] == "" {
		return
	}
	key := string(pod.UID) + "/" + pod.Labels[labelSession]
	n.mu.Lock()
	if n.done[key] {
		n.mu.Unlock()
		return
	}
	n.done[key] = true
	n.mu.Unlock()
	n.e.wg.Add(1)
	go func() {
		defer n.e.wg.Done()
		if err := n.start(ctx, pod); err != nil {
			n.e.log.Warn("notebook: could not start its executors", "pod", pod.Namespace+"/"+pod.Name, "error", err)
		}
	}()
}

// start reads the session's settings (waiting a little for the ConfigMap, as a user would run
// the cell after the session printed them) and creates the executors.
func (n *notebooks) start(ctx context.Context, pod *corev1.Pod) error {
	count, err := strconv.Atoi(pod.Annotations[AnnotationNotebookExecutors])
	if err != nil || count < 0 {
		count = 1
	}
	var conf map[string]string
	for deadline := time.Now().Add(time.Minute); ; {
		cm, err := n.e.client.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, pod.Annotations[AnnotationNotebookConf], metav1.GetOptions{})
		if err == nil {
			conf = parseDefaults(cm.Data["spark-defaults.conf"])
			break
		}
		if !apierrors.IsNotFound(err) || time.Now().After(deadline) {
			return fmt.Errorf("read the session's settings %q: %w", pod.Annotations[AnnotationNotebookConf], err)
		}
		if !sleepUntil(ctx, time.Now().Add(500*time.Millisecond)) {
			return ctx.Err()
		}
	}
	// What Spark checks at SparkContext start in client mode.
	if name := conf["spark.kubernetes.driver.pod.name"]; name != pod.Name {
		return fmt.Errorf("spark.kubernetes.driver.pod.name is %q, not this pod", name)
	}
	ns := conf["spark.kubernetes.namespace"]
	if ns != pod.Namespace {
		return fmt.Errorf("no pod was found named %s in the namespace %s (this was supposed to be the driver pod.)", pod.Name, ns)
	}
	sum := sha256.Sum256([]byte(string(pod.UID) + pod.Labels[labelSession]))
	appID := "spark-" + hex.EncodeToString(sum[:16])
	// KubernetesConf.getResourceNamePrefix: the app name and a unique id, unless set.
	prefix := conf["spark.kubernetes.executor.podNamePrefix"]
	if prefix == "" {
		prefix = "pyspark-shell-" + appID[len("spark-"):len("spark-")+16]
	}
	for id := 1; id <= count; id++ {
		labels := map[string]string{}
		for k, v := range conf {
			if l, ok := strings.CutPrefix(k, "spark.kubernetes.executor.label."); ok {
				labels[l] = v
			}
		}
		labels[LabelAppSelector], labels[LabelRole], labels[LabelExecID] = appID, RoleExecutor, strconv.Itoa(id)
		exec := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{
				Name: fmt.Sprintf("%s-exec-%d", prefix, id), Namespace: ns, Labels: labels,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: types.UID(pod.UID), Controller: ptr.To(true)}},
			},
			Spec: corev1.PodSpec{
				RestartPolicy: corev1.RestartPolicyNever,
				Containers: []corev1.Container{{
					Name: "spark-kubernetes-executor", Image: conf["spark.kubernetes.container.image"], Args: []string{"executor"},
					Env:       []corev1.EnvVar{{Name: "SPARK_DRIVER_URL", Value: fmt.Sprintf("spark://CoarseGrainedScheduler@%s:%s", conf["spark.driver.host"], conf["spark.driver.port"])}},
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("1408Mi")}},
				}},
			},
		}
		if _, err := n.e.client.CoreV1().Pods(ns).Create(ctx, exec, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create executor %s: %w", exec.Name, err)
		}
	}
	n.e.log.Info("notebook: executors requested", "pod", pod.Namespace+"/"+pod.Name, "executors", count, "appId", appID)
	return nil
}

// parseDefaults reads spark-defaults.conf: "key value" (or key=value) per line, # comments.
func parseDefaults(s string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, " ")
		if !ok {
			k, v, _ = strings.Cut(line, "=")
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out
}
