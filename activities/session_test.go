package activities

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.temporal.io/sdk/temporal"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kindling-dev/kindling/k8s/cluster"
	"github.com/kindling-dev/kindling/k8s/session"
)

// notebookAPI is a fake API server with a notebook pod whose service account may do what the
// allowed function says, as a LocalSubjectAccessReview answers.
func notebookAPI(allowed func(verb, resource string) bool, objs ...runtime.Object) *fake.Clientset {
	nb := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "nb", Namespace: "team-a", UID: "uid-nb"},
		Spec: corev1.PodSpec{ServiceAccountName: "jupyter"}}
	api := fake.NewClientset(append([]runtime.Object{nb}, objs...)...)
	api.PrependReactor("create", "localsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.LocalSubjectAccessReview)
		if r.Spec.User != "system:serviceaccount:team-a:jupyter" {
			return true, nil, errors.New("review for " + r.Spec.User)
		}
		ra := r.Spec.ResourceAttributes
		r.Status.Allowed = allowed(ra.Verb, ra.Resource)
		return true, r, nil
	})
	return api
}

func prepare(api *fake.Clientset, spec session.Spec) (SessionReady, error) {
	a := &Activities{Cluster: cluster.Objects{Kube: api}}
	return a.PrepareSession(context.Background(), SessionInput{Spec: spec, RunID: "run-1"})
}

func refusal(t *testing.T, err error, want string) {
	t.Helper()
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || !ae.NonRetryable() || !strings.Contains(ae.Message(), want) {
		t.Fatalf("err %v, want a non-retryable refusal saying %q", err, want)
	}
}

var notebookSpec = session.Spec{Namespace: "team-a", Pod: "nb", Image: "apache/spark:4.0.4"}

func TestPrepareSessionMakesTheServiceAndSettings(t *testing.T) {
	api := notebookAPI(func(string, string) bool { return true })
	ready, err := prepare(api, notebookSpec)
	if err != nil {
		t.Fatal(err)
	}
	pod, _ := api.CoreV1().Pods("team-a").Get(context.Background(), "nb", metav1.GetOptions{})
	if pod.Labels[session.LabelSessionDriver] != ready.Names.ID || pod.Labels[session.LabelSession] != "" {
		t.Errorf("pod labels %v", pod.Labels)
	}
	svc, err := api.CoreV1().Services("team-a").Get(context.Background(), "nb-spark", metav1.GetOptions{})
	if err != nil || svc.Spec.ClusterIP != corev1.ClusterIPNone || svc.Spec.Selector[session.LabelSessionDriver] != ready.Names.ID ||
		len(svc.OwnerReferences) != 1 || svc.OwnerReferences[0].UID != "uid-nb" {
		t.Fatalf("service %+v (%v)", svc, err)
	}
	cm, err := api.CoreV1().ConfigMaps("team-a").Get(context.Background(), "nb-spark-conf", metav1.GetOptions{})
	if err != nil || !strings.Contains(cm.Data["spark-defaults.conf"], "spark.driver.host nb-spark.team-a.svc\n") {
		t.Fatalf("settings %v (%v)", cm.Data, err)
	}
	// Again (a retry): the same objects, no error.
	if again, err := prepare(api, notebookSpec); err != nil || again.Names != ready.Names {
		t.Errorf("a retried prepare: %v, %v", again.Names, err)
	}
}

func TestPrepareSessionRefusals(t *testing.T) {
	all := func(string, string) bool { return true }
	t.Run("no such pod", func(t *testing.T) {
		s := notebookSpec
		s.Pod = "gone"
		_, err := prepare(notebookAPI(all), s)
		refusal(t, err, `no pod gone in namespace team-a (Spark would fail: "No pod was found named gone in the namespace team-a")`)
	})
	t.Run("a service account that cannot run executors", func(t *testing.T) {
		api := notebookAPI(func(verb, resource string) bool { return resource == "pods" && verb != "create" && verb != "delete" })
		_, err := prepare(api, notebookSpec)
		refusal(t, err, "service account team-a/jupyter may not create pods, delete pods, create configmaps, delete configmaps in team-a")
		if _, err := api.CoreV1().Services("team-a").Get(context.Background(), "nb-spark", metav1.GetOptions{}); err == nil {
			t.Error("a refused session made its Service")
		}
	})
	t.Run("a pod already in a session", func(t *testing.T) {
		api := notebookAPI(all)
		pod, _ := api.CoreV1().Pods("team-a").Get(context.Background(), "nb", metav1.GetOptions{})
		pod.Labels = map[string]string{session.LabelSessionDriver: "other"}
		_, _ = api.CoreV1().Pods("team-a").Update(context.Background(), pod, metav1.UpdateOptions{})
		_, err := prepare(api, notebookSpec)
		refusal(t, err, "is already in a session (label kindling.dev/session-driver=other)")
	})
	t.Run("a namespace the worker does not watch", func(t *testing.T) {
		a := &Activities{Cluster: cluster.Objects{Kube: notebookAPI(all)}, WatchNamespace: "jobs"}
		_, err := a.PrepareSession(context.Background(), SessionInput{Spec: notebookSpec, RunID: "run-1"})
		refusal(t, err, "team-a")
	})
}

// Cleanup removes only what carries this session's label: a Service of the same name made by
// another session stays.
func TestCleanupSessionTakesOnlyItsOwn(t *testing.T) {
	names := session.MakeNames("nb", "run-1")
	theirs := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: names.Service, Namespace: "team-a", Labels: map[string]string{session.LabelSession: "other"}}}
	api := notebookAPI(func(string, string) bool { return true }, theirs)
	a := &Activities{Cluster: cluster.Objects{Kube: api}}
	if err := a.CleanupSession(context.Background(), SessionCleanup{Namespace: "team-a", Pod: "nb", Names: names}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.CoreV1().Services("team-a").Get(context.Background(), names.Service, metav1.GetOptions{}); err != nil {
		t.Errorf("cleanup deleted another session's Service: %v", err)
	}
}
