package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kindling-dev/kindling/activities"
	"github.com/kindling-dev/kindling/dev/emulator"
	"github.com/kindling-dev/kindling/k8s/session"
	"github.com/kindling-dev/kindling/workflows"
)

// notebookAccount is a service account allowed what Spark's driver does in client mode.
func notebookAccount(t *testing.T, name string, allowed bool) {
	t.Helper()
	ctx := context.Background()
	kube := stack.kube.Kube
	if _, err := kube.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = kube.CoreV1().ServiceAccounts(ns).Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	if !allowed {
		return
	}
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"pods", "configmaps"}, Verbs: []string{"create", "get", "list", "watch", "delete"}},
	}}
	if _, err := kube.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: ns}}}
	if _, err := kube.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = kube.RbacV1().RoleBindings(ns).Delete(context.Background(), name, metav1.DeleteOptions{})
		_ = kube.RbacV1().Roles(ns).Delete(context.Background(), name, metav1.DeleteOptions{})
	})
}

// notebookPod is a pod the emulator plays as a notebook: once its session labels it, its
// Spark reads the session's ConfigMap and asks for executors.
func notebookPod(t *testing.T, name, account string, executors int) *corev1.Pod {
	t.Helper()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{emulator.LabelNotebook: "true"},
			Annotations: map[string]string{emulator.AnnotationNotebookConf: name + "-spark-conf", emulator.AnnotationNotebookExecutors: itoa(executors)}},
		Spec: corev1.PodSpec{ServiceAccountName: account, Containers: []corev1.Container{{Name: "notebook", Image: "jupyter/pyspark-notebook"}}},
	}
	created, err := stack.kube.Kube.CoreV1().Pods(ns).Create(context.Background(), pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = stack.kube.Kube.CoreV1().Pods(ns).Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	waitFor(t, time.Minute, "the notebook to run", func() bool {
		p, err := stack.kube.Kube.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
		return err == nil && p.Status.Phase == corev1.PodRunning
	})
	return created
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

type sessionView struct {
	workflows.SessionStatus
	Executors activities.SessionProgress `json:"executors"`
}

func sessionStatus(t *testing.T, id string) sessionView {
	t.Helper()
	var v sessionView
	out := mustKindling(t, "session", "status", id, "-o", "json")
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("session status: %v: %s", err, out)
	}
	return v
}

// A notebook pod is the driver in client mode: the session makes a Service that selects only
// it and hands out the settings; the notebook's executors are counted; ending the session
// removes the executors, the Service, the settings and the pod's label.
func TestSessionForANotebook(t *testing.T) {
	t.Parallel()
	name := "nb-" + uuid.NewString()[:6]
	notebookAccount(t, name, true)
	pod := notebookPod(t, name, name, 2)
	id, st := startSession(t, "--pod", name)
	t.Logf("session %s: service %s, settings %v", id, st.Service, st.Settings)

	kube := stack.kube.Kube.CoreV1()
	svc, err := kube.Services(ns).Get(context.Background(), st.Service, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if svc.Spec.ClusterIP != corev1.ClusterIPNone || len(svc.OwnerReferences) != 1 || svc.OwnerReferences[0].UID != pod.UID {
		t.Errorf("service: clusterIP %q, owners %v; want headless, owned by the notebook", svc.Spec.ClusterIP, svc.OwnerReferences)
	}
	selected, err := kube.Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: labels.SelectorFromSet(svc.Spec.Selector).String()})
	if err != nil || len(selected.Items) != 1 || selected.Items[0].Name != name {
		t.Errorf("the service selects %d pods; want only the notebook", len(selected.Items))
	}
	ports := map[int32]bool{}
	for _, p := range svc.Spec.Ports {
		ports[p.Port] = true
	}
	if !ports[session.DriverPort] || !ports[session.BlockManagerPort] {
		t.Errorf("service ports %v", svc.Spec.Ports)
	}
	for k, want := range map[string]string{
		"spark.driver.host": st.Service + "." + ns + ".svc", "spark.driver.port": "7078", "spark.driver.blockManager.port": "7079",
		"spark.kubernetes.driver.pod.name": name, "spark.kubernetes.namespace": ns, "spark.submit.deployMode": "client",
		"spark.kubernetes.container.image": "apache/spark:4.0.4",
	} {
		if st.Settings[k] != want {
			t.Errorf("setting %s = %q, want %q", k, st.Settings[k], want)
		}
	}

	// The emulated notebook's Spark asks for two executors; the session counts them.
	waitFor(t, time.Minute, "the session to count two running executors", func() bool { return sessionStatus(t, id).Executors.Running == 2 })
	execSel := session.LabelSession + "=" + svc.Spec.Selector[session.LabelSessionDriver] + ",spark-role=executor"
	// With executors running, the Service still selects the notebook alone: executors must
	// never answer for the driver.
	selected, err = kube.Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: labels.SelectorFromSet(svc.Spec.Selector).String()})
	if err != nil || len(selected.Items) != 1 || selected.Items[0].Name != name {
		t.Errorf("with executors running the service selects %d pods; want only the notebook", len(selected.Items))
	}
	execs, _ := kube.Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: execSel})
	for _, e := range execs.Items {
		if ref := metav1.GetControllerOf(&e); ref == nil || ref.UID != pod.UID {
			t.Errorf("executor %s is not owned by the notebook pod", e.Name)
		}
	}

	// A second session on the same pod is refused, and leaves the first one's objects alone.
	if out, code := kindling(t, "session", "start", "--pod", name, "--image", "apache/spark:4.0.4", "--task-queue", stack.taskQueue); code != 1 || !strings.Contains(out, "is already in a session") {
		t.Errorf("second session: exit %d: %s", code, out)
	}
	if _, err := kube.Services(ns).Get(context.Background(), st.Service, metav1.GetOptions{}); err != nil {
		t.Errorf("the refused second session took the first one's Service: %v", err)
	}
	if _, err := kube.ConfigMaps(ns).Get(context.Background(), st.ConfigMap, metav1.GetOptions{}); err != nil {
		t.Errorf("the refused second session took the first one's settings: %v", err)
	}

	end := mustKindling(t, "session", "end", id)
	if !strings.Contains(end, "ENDED") {
		t.Errorf("session end printed %q", end)
	}
	waitFor(t, time.Minute, "the executors to go", func() bool { return countPods(t, execSel) == 0 })
	if _, err := kube.Services(ns).Get(context.Background(), st.Service, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("service after the end: %v", err)
	}
	if _, err := kube.ConfigMaps(ns).Get(context.Background(), st.ConfigMap, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("settings ConfigMap after the end: %v", err)
	}
	if p, _ := kube.Pods(ns).Get(context.Background(), name, metav1.GetOptions{}); p.Labels[session.LabelSessionDriver] != "" {
		t.Errorf("the notebook keeps the session label: %v", p.Labels)
	}
	saveHistoryAs(t, id, "SessionEnded")
}

// startSession runs `kindling session start -o json` and returns the session's ID and status.
func startSession(t *testing.T, args ...string) (string, workflows.SessionStatus) {
	t.Helper()
	out := mustKindling(t, append([]string{"session", "start", "--image", "apache/spark:4.0.4", "--task-queue", stack.taskQueue, "-o", "json"}, args...)...)
	var v struct {
		ID string `json:"id"`
		workflows.SessionStatus
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.ID == "" {
		t.Fatalf("session start printed %q (%v)", out, err)
	}
	return v.ID, v.SessionStatus
}

// Deleting the notebook ends its session; the Service goes with the pod.
func TestSessionEndsWithItsNotebook(t *testing.T) {
	t.Parallel()
	name := "nb-" + uuid.NewString()[:6]
	notebookAccount(t, name, true)
	notebookPod(t, name, name, 1)
	id, _ := startSession(t, "--pod", name)
	if err := stack.kube.Kube.CoreV1().Pods(ns).Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	var res workflows.SessionResult
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := stack.temporal.GetWorkflow(ctx, id, "").Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if res.State != workflows.SessionEnded || !strings.Contains(res.Reason, "was deleted") {
		t.Errorf("session ended %s: %s", res.State, res.Reason)
	}
	saveHistoryAs(t, id, "SessionNotebookDeleted")
	waitFor(t, time.Minute, "the service to go", func() bool {
		_, err := stack.kube.Kube.CoreV1().Services(ns).Get(context.Background(), name+"-spark", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
}

// What Spark would fail on later is refused now, with the reason.
func TestSessionRefusesWhatSparkWouldFailOn(t *testing.T) {
	t.Parallel()
	name := "nb-" + uuid.NewString()[:6]
	notebookAccount(t, name, false)
	notebookPod(t, name, name, 0)
	for _, tc := range []struct {
		what string
		args []string
		code int
		want string
	}{
		{"a pod in another namespace", []string{"--pod", "team-b/" + name}, 2, `No pod was found named ` + name + ` in the namespace default`},
		{"no such pod", []string{"--pod", name + "-gone"}, 1, "no pod " + name + "-gone in namespace default"},
		{"a service account that cannot create executors", []string{"--pod", name}, 1, "may not get pods, create pods, list pods, watch pods, delete pods, create configmaps, delete configmaps"},
	} {
		t.Run(tc.what, func(t *testing.T) {
			out, code := kindling(t, append([]string{"session", "start", "--image", "apache/spark:4.0.4", "--task-queue", stack.taskQueue}, tc.args...)...)
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d, want %d; output:\n%s\nwant it to say %q", code, tc.code, out, tc.want)
			}
		})
	}
	if _, err := stack.kube.Kube.CoreV1().Services(ns).Get(context.Background(), name+"-spark", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("a refused session left its service: %v", err)
	}
	// `session end` of a job that is not a session refuses instead of signalling it.
	run := start(t, testJob(t, map[string]string{"emulator.kindling.dev/duration": "1s"}), stack.taskQueue)
	if out, code := kindling(t, "session", "end", run.GetID()); code != 2 || !strings.Contains(out, "is not a session (it is a SparkJob)") {
		t.Errorf("session end of a job: exit %d: %s", code, out)
	}
	if _, err := result(t, run, 2*time.Minute); err != nil {
		t.Errorf("the job: %v", err)
	}
}

// A Spark Connect server is a cluster-mode job whose Service exposes the Connect port; it runs
// until the session ends, and then its driver, executors and Service go.
func TestConnectSession(t *testing.T) {
	t.Parallel()
	name := "connect-" + uuid.NewString()[:6]
	out := mustKindling(t, "session", "start", "--connect", "--name", name, "--image", "apache/spark:4.0.4", "--task-queue", stack.taskQueue, "-o", "json")
	var v struct{ ID, Address string }
	if err := json.Unmarshal([]byte(out), &v); err != nil || !strings.HasPrefix(v.Address, "sc://") || !strings.HasSuffix(v.Address, "."+ns+".svc:15002") {
		t.Fatalf("session start --connect printed %q (%v)", out, err)
	}
	svcName := strings.TrimSuffix(strings.TrimPrefix(v.Address, "sc://"), "."+ns+".svc:15002")
	svc, err := stack.kube.Kube.CoreV1().Services(ns).Get(context.Background(), svcName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	connect := false
	for _, p := range svc.Spec.Ports {
		connect = connect || (p.Name == "spark-connect" && p.Port == 15002)
	}
	if !connect {
		t.Errorf("the driver's service exposes %v, not the Connect port", svc.Spec.Ports)
	}
	st := mustKindling(t, "session", "status", v.ID)
	if !strings.Contains(st, v.Address) || !strings.Contains(st, "RUNNING") {
		t.Errorf("session status:\n%s", st)
	}
	if end := mustKindling(t, "session", "end", v.ID); !strings.Contains(end, "ENDED") {
		t.Errorf("session end printed %q", end)
	}
	sel := "spark-app-selector=" + svc.Labels["spark-app-selector"]
	waitFor(t, time.Minute, "the server's pods to go", func() bool { return countPods(t, sel) == 0 })
	waitFor(t, time.Minute, "its service to go", func() bool {
		_, err := stack.kube.Kube.CoreV1().Services(ns).Get(context.Background(), svcName, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
}

// A session with no executor for its idle timeout ends by itself and cleans up; so does one
// past its maximum duration.
func TestSessionEndsWhenIdleOrTooLong(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		flag, want string
	}{
		{"--idle-timeout=3s", "idle: no executor for 3s"},
		{"--max-duration=3s", "its maximum duration (3s) passed"},
	} {
		t.Run(tc.flag, func(t *testing.T) {
			t.Parallel()
			name := "nb-" + uuid.NewString()[:6]
			notebookAccount(t, name, true)
			notebookPod(t, name, name, 0)
			id, st := startSession(t, "--pod", name, tc.flag)
			var res workflows.SessionResult
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := stack.temporal.GetWorkflow(ctx, id, "").Get(ctx, &res); err != nil {
				t.Fatal(err)
			}
			if res.Reason != tc.want {
				t.Errorf("ended: %q, want %q", res.Reason, tc.want)
			}
			if _, err := stack.kube.Kube.CoreV1().Services(ns).Get(context.Background(), st.Service, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Errorf("service after the end: %v", err)
			}
		})
	}
}
