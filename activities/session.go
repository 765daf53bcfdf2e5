package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kindling-dev/kindling/k8s/cluster"
	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/k8s/session"
)

// SessionInput is a session's spec and the run that owns it (its names derive from the run).
type SessionInput struct {
	Spec  session.Spec `json:"spec"`
	RunID string       `json:"runId"`
}

// SessionReady is what a session made: the notebook's settings and where they are.
type SessionReady struct {
	Names          session.Names     `json:"names"`
	PodUID         string            `json:"podUid"`
	ServiceAccount string            `json:"serviceAccount"`
	Settings       map[string]string `json:"settings"`
}

// sessionRights are what Spark's driver in client mode does with the API server (creating,
// watching and deleting executors and their conf ConfigMap), which the notebook pod's
// service account must be allowed.
var sessionRights = []struct{ verb, resource string }{
	{"get", "pods"}, {"create", "pods"}, {"list", "pods"}, {"watch", "pods"}, {"delete", "pods"},
	{"create", "configmaps"}, {"delete", "configmaps"},
}

// PrepareSession checks what Spark would fail on later — the pod missing, in another
// namespace, its service account unable to create executors (a SubjectAccessReview) — and
// then labels the pod, creates the headless Service that selects only it and the ConfigMap of
// settings, both owned by the pod. Idempotent.
func (a *Activities) PrepareSession(ctx context.Context, in SessionInput) (SessionReady, error) {
	s := in.Spec
	if err := session.Check(&s); err != nil {
		return SessionReady{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrInvalidSpec, nil)
	}
	names := session.MakeNames(s.Pod, in.RunID)
	// The worker's own limits (--watch-namespace, --allow-namespace): outside them it would
	// see no executor, count the session idle and end it under the notebook.
	if errs := a.namespaceProblems(s.Namespace); len(errs) > 0 {
		return SessionReady{}, temporal.NewNonRetryableApplicationError(job.Errors(errs).Error(), ErrInvalidSpec, nil)
	}
	kube := a.Cluster.Kube
	pods := kube.CoreV1().Pods(s.Namespace)
	pod, err := pods.Get(ctx, s.Pod, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return SessionReady{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"session.pod: no pod %s in namespace %s (Spark would fail: \"No pod was found named %s in the namespace %s\")", s.Pod, s.Namespace, s.Pod, s.Namespace), ErrInvalidSpec, nil)
	}
	if err != nil {
		return SessionReady{}, fmt.Errorf("read pod %s/%s: %w", s.Namespace, s.Pod, err)
	}
	if other := pod.Labels[session.LabelSessionDriver]; other != "" && other != names.ID {
		return SessionReady{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"pod %s/%s is already in a session (label %s=%s): end that one first", s.Namespace, s.Pod, session.LabelSessionDriver, other), ErrForeignObject, nil)
	}
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	var missing []string
	for _, r := range sessionRights {
		// Local (namespaced): a worker installed with a RoleBinding may ask it.
		review := &authorizationv1.LocalSubjectAccessReview{ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace}, Spec: authorizationv1.SubjectAccessReviewSpec{
			User:               "system:serviceaccount:" + s.Namespace + ":" + sa,
			Groups:             []string{"system:serviceaccounts", "system:serviceaccounts:" + s.Namespace, "system:authenticated"},
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: s.Namespace, Verb: r.verb, Resource: r.resource},
		}}
		got, err := kube.AuthorizationV1().LocalSubjectAccessReviews(s.Namespace).Create(ctx, review, metav1.CreateOptions{})
		if err != nil {
			return SessionReady{}, fmt.Errorf("check what service account %s may do: %w", sa, err)
		}
		if !got.Status.Allowed {
			missing = append(missing, r.verb+" "+r.resource)
		}
	}
	if len(missing) > 0 {
		return SessionReady{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"the notebook pod's service account %s/%s may not %s in %s, which Spark's driver does to run executors: grant it a Role with those rights",
			s.Namespace, sa, strings.Join(missing, ", "), s.Namespace), ErrInvalidSpec, nil)
	}

	if pod.Labels[session.LabelSessionDriver] != names.ID {
		patch := fmt.Sprintf(`{"metadata":{"labels":{%q:%q}}}`, session.LabelSessionDriver, names.ID)
		if _, err := pods.Patch(ctx, s.Pod, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			return SessionReady{}, fmt.Errorf("label pod %s: %w", s.Pod, err)
		}
	}
	owner := metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID}
	ours := map[string]string{job.LabelManagedBy: job.ManagedByValue, session.LabelSession: names.ID}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: names.Service, Namespace: s.Namespace, Labels: ours, OwnerReferences: []metav1.OwnerReference{owner}},
		Spec: corev1.ServiceSpec{
			ClusterIP:                corev1.ClusterIPNone,
			Selector:                 map[string]string{session.LabelSessionDriver: names.ID},
			PublishNotReadyAddresses: true, // executors reach the driver even when the notebook's readiness fails
			Ports: []corev1.ServicePort{
				{Name: "driver-rpc-port", Port: session.DriverPort, TargetPort: intstr.FromInt32(session.DriverPort)},
				{Name: "blockmanager", Port: session.BlockManagerPort, TargetPort: intstr.FromInt32(session.BlockManagerPort)},
				{Name: "spark-ui", Port: session.UIPort, TargetPort: intstr.FromInt32(session.UIPort)},
			},
		},
	}
	if err := createOwned(ctx, names.ID, "Service "+names.Service, func() (metav1.Object, error) {
		return kube.CoreV1().Services(s.Namespace).Create(ctx, svc, metav1.CreateOptions{})
	}, func() (metav1.Object, error) {
		return kube.CoreV1().Services(s.Namespace).Get(ctx, names.Service, metav1.GetOptions{})
	}); err != nil {
		return SessionReady{}, err
	}
	settings := session.Settings(&s, names)
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: names.ConfigMap, Namespace: s.Namespace, Labels: ours, OwnerReferences: []metav1.OwnerReference{owner}},
		Data:       map[string]string{"spark-defaults.conf": session.Properties(settings)},
	}
	if err := createOwned(ctx, names.ID, "ConfigMap "+names.ConfigMap, func() (metav1.Object, error) {
		return kube.CoreV1().ConfigMaps(s.Namespace).Create(ctx, cm, metav1.CreateOptions{})
	}, func() (metav1.Object, error) {
		return kube.CoreV1().ConfigMaps(s.Namespace).Get(ctx, names.ConfigMap, metav1.GetOptions{})
	}); err != nil {
		return SessionReady{}, err
	}
	logger(ctx).Info("session ready", "pod", s.Namespace+"/"+s.Pod, "service", names.Service, "session", names.ID)
	return SessionReady{Names: names, PodUID: string(pod.UID), ServiceAccount: sa, Settings: settings}, nil
}

// createOwned creates an object, or takes the one of that name when it is this session's.
func createOwned(ctx context.Context, id, what string, create, get func() (metav1.Object, error)) error {
	_, err := create()
	if apierrors.IsAlreadyExists(err) {
		var cur metav1.Object
		if cur, err = get(); err == nil && cur.GetLabels()[session.LabelSession] != id {
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s exists and is not this session's: delete it or end its session", what), ErrForeignObject, nil)
		}
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", what, err)
	}
	return nil
}

// SessionWatch is what SuperviseSession follows.
type SessionWatch struct {
	Namespace   string        `json:"namespace"`
	Pod         string        `json:"pod"`
	PodUID      string        `json:"podUid"`
	ID          string        `json:"id"`
	IdleTimeout time.Duration `json:"idleTimeout"`
}

// SessionProgress is a session's executors, heartbeated while it lasts.
type SessionProgress struct {
	Running   int       `json:"running"`
	Pending   int       `json:"pending"`
	Failed    int       `json:"failed"`
	OOMKilled int       `json:"oomKilled"`
	IdleSince time.Time `json:"idleSince,omitempty"` // when the last executor went, zero while some run
}

// SessionEnd says why a session ended by itself.
type SessionEnd struct {
	Reason   string          `json:"reason"`
	Progress SessionProgress `json:"progress"`
}

// SuperviseSession follows a session's executors through the worker's shared pod watch until
// the notebook pod is gone or the session has been idle (no executor) for its idle timeout.
// A cancel (the session ended) returns at once.
func (a *Activities) SuperviseSession(ctx context.Context, in SessionWatch) (SessionEnd, error) {
	var prog SessionProgress
	if activity.IsActivity(ctx) && activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &prog)
	}
	if prog.IdleSince.IsZero() {
		prog.IdleSince = time.Now()
	}
	sel := labels.SelectorFromSet(labels.Set{session.LabelSession: in.ID, job.LabelSparkRole: job.SparkRoleExecutor})
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	lastPodCheck := time.Time{}
	failed := map[types.UID]bool{} // executors seen failed, by UID: Spark deletes them soon after
	for {
		now := time.Now()
		p := SessionProgress{IdleSince: prog.IdleSince, OOMKilled: prog.OOMKilled, Failed: prog.Failed}
		for _, e := range a.Pods.Selected(in.Namespace, sel) {
			switch e.Status.Phase {
			case corev1.PodRunning:
				p.Running++
			case corev1.PodPending:
				p.Pending++
			}
			if f, oom := cluster.ExecutorFailure(e); f && !failed[e.UID] {
				failed[e.UID] = true
				p.Failed++
				if oom {
					p.OOMKilled++
				}
			}
		}
		if p.Running+p.Pending > 0 {
			p.IdleSince = time.Time{}
		} else if p.IdleSince.IsZero() {
			p.IdleSince = now
		}
		prog = p
		if activity.IsActivity(ctx) {
			activity.RecordHeartbeat(ctx, prog)
		}
		if now.Sub(lastPodCheck) >= 5*time.Second {
			lastPodCheck = now
			gone, err := cluster.DriverGone(ctx, a.Cluster.Kube, in.Namespace, in.Pod, in.PodUID)
			if err != nil && !errors.Is(err, context.Canceled) {
				logger(ctx).Warn("read the notebook pod", "pod", in.Pod, "error", err)
			}
			if gone {
				return SessionEnd{Reason: "the notebook pod " + in.Pod + " was deleted", Progress: prog}, nil
			}
		}
		if in.IdleTimeout > 0 && !prog.IdleSince.IsZero() && now.Sub(prog.IdleSince) >= in.IdleTimeout {
			return SessionEnd{Reason: fmt.Sprintf("idle: no executor for %s", in.IdleTimeout), Progress: prog}, nil
		}
		select {
		case <-ctx.Done():
			return SessionEnd{Progress: prog}, ctx.Err()
		case <-tick.C:
		}
	}
}

// SessionCleanup names what a session made.
type SessionCleanup struct {
	Namespace string        `json:"namespace"`
	Pod       string        `json:"pod"`
	PodUID    string        `json:"podUid"`
	Names     session.Names `json:"names"`
}

// CleanupSession deletes the session's executors (a restarted kernel leaves its old ones), its
// Service and ConfigMap — each only when it carries this session's label — and takes its label
// off the notebook pod. NotFound is success; so is a session that made nothing.
func (a *Activities) CleanupSession(ctx context.Context, in SessionCleanup) error {
	kube := a.Cluster.Kube
	ns := in.Namespace
	bg := metav1.DeletePropagationBackground
	id := in.Names.ID
	sel := labels.SelectorFromSet(labels.Set{session.LabelSession: id, job.LabelSparkRole: job.SparkRoleExecutor}).String()
	execs, err := kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return fmt.Errorf("list the session's executors: %w", err)
	}
	if err := kube.CoreV1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{PropagationPolicy: &bg}, metav1.ListOptions{LabelSelector: sel}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete the session's executors: %w", err)
	}
	if a.Pods != nil {
		for _, e := range execs.Items {
			a.Pods.ForgetApp(ns, e.Labels[job.LabelSparkAppID])
		}
	}
	// The Service and ConfigMap go only if they carry this session's label, and only the
	// objects read (a UID precondition): one made since under the name is not ours.
	deleteOurs := func(what, name string, get func() (metav1.Object, error), del func(metav1.DeleteOptions) error) error {
		obj, err := get()
		switch {
		case apierrors.IsNotFound(err):
			return nil
		case err != nil:
			return fmt.Errorf("read %s %s: %w", what, name, err)
		case obj.GetLabels()[session.LabelSession] != id:
			return nil
		}
		err = del(metav1.DeleteOptions{PropagationPolicy: &bg, Preconditions: metav1.NewUIDPreconditions(string(obj.GetUID()))})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return fmt.Errorf("delete %s %s: %w", what, name, err)
		}
		return nil
	}
	svcs, cms := kube.CoreV1().Services(ns), kube.CoreV1().ConfigMaps(ns)
	if err := deleteOurs("Service", in.Names.Service,
		func() (metav1.Object, error) { return svcs.Get(ctx, in.Names.Service, metav1.GetOptions{}) },
		func(o metav1.DeleteOptions) error { return svcs.Delete(ctx, in.Names.Service, o) }); err != nil {
		return err
	}
	if err := deleteOurs("ConfigMap", in.Names.ConfigMap,
		func() (metav1.Object, error) { return cms.Get(ctx, in.Names.ConfigMap, metav1.GetOptions{}) },
		func(o metav1.DeleteOptions) error { return cms.Delete(ctx, in.Names.ConfigMap, o) }); err != nil {
		return err
	}
	pod, err := kube.CoreV1().Pods(ns).Get(ctx, in.Pod, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return fmt.Errorf("read pod %s: %w", in.Pod, err)
	case (in.PodUID == "" || string(pod.UID) == in.PodUID) && pod.Labels[session.LabelSessionDriver] == id:
		patch := fmt.Sprintf(`{"metadata":{"labels":{%q:null}}}`, session.LabelSessionDriver)
		if _, err := kube.CoreV1().Pods(ns).Patch(ctx, in.Pod, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("unlabel pod %s: %w", in.Pod, err)
		}
	}
	logger(ctx).Info("session cleaned up", "pod", ns+"/"+in.Pod, "session", id)
	return nil
}
