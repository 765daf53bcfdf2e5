package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/api/workflowservice/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/kindling-dev/kindling/activities"
	"github.com/kindling-dev/kindling/controller"
	"github.com/kindling-dev/kindling/k8s/api/v1beta2"
	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/k8s/job/jobtest"
	"github.com/kindling-dev/kindling/k8s/render"
	"github.com/kindling-dev/kindling/workflows"
)

var sparkApps = activities.SparkApplications

// ctlEnv is one test's controller mode: its own namespace, task queue and leader lease, and
// two worker replicas with --controller acting as the deployed service account.
type ctlEnv struct {
	ns, queue string
	workers   []*ownWorker
}

func newCtlEnv(t *testing.T, replicas int, env ...string) *ctlEnv {
	t.Helper()
	ctx := context.Background()
	if err := controller.InstallCRDs(ctx, stack.kube.Config, "../deploy/crds"); err != nil {
		t.Fatal(err)
	}
	e := &ctlEnv{ns: "ctl-" + uuid.NewString()[:8], queue: "kindling-ctl-" + uuid.NewString()[:8]}
	core := stack.kube.Kube.CoreV1()
	if _, err := core.Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: e.ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = core.Namespaces().Delete(context.Background(), e.ns, metav1.DeleteOptions{}) })
	for _, sa := range []string{"spark", "spark-operator-spark"} {
		if _, err := core.ServiceAccounts(e.ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	kubeconfig := asControllerKubeconfig(t)
	for range replicas {
		e.workers = append(e.workers, newOwnWorker(t, e.queue, append([]string{"KINDLING_CONTROLLER=true", "KUBECONFIG=" + kubeconfig,
			"KINDLING_WATCH_NAMESPACE=" + e.ns, "POD_NAMESPACE=" + e.ns, "KINDLING_LEADER_ELECTION_ID=kindling-controller"}, env...)...))
	}
	// Before the workers stop (cleanups run last first): every object goes while its controller
	// runs, so no run is left open on a queue no one polls and no finalizer holds the namespace.
	t.Cleanup(func() { e.deleteAll(t) })
	return e
}

func (e *ctlEnv) deleteAll(t *testing.T) {
	ctx := context.Background()
	// A test that stopped its controller and failed: one must run for the objects to go.
	running := false
	for _, w := range e.workers {
		select {
		case <-w.exit:
		default:
			running = true
		}
	}
	if !running && len(e.workers) > 0 {
		e.workers[0].start()
	}
	for _, r := range []schema.GroupVersionResource{scheduledApps, sparkApps} {
		if err := stack.kube.Dynamic.Resource(r).Namespace(e.ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
			t.Errorf("delete %s: %v", r.Resource, err)
		}
	}
	left := func() int {
		n := 0
		for _, r := range []schema.GroupVersionResource{scheduledApps, sparkApps} {
			if l, err := stack.kube.Dynamic.Resource(r).Namespace(e.ns).List(ctx, metav1.ListOptions{}); err == nil {
				n += len(l.Items)
			}
		}
		return n
	}
	deadline := time.Now().Add(2 * time.Minute)
	for left() > 0 && time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
	}
	if n := left(); n > 0 {
		t.Errorf("%d objects still there 2m after their delete: the controller did not let them go", n)
	}
}

// asControllerKubeconfig applies deploy/controller/rbac.yaml and writes a kubeconfig that acts
// as the worker's service account, so the controller runs with the rights deployed ones have.
func asControllerKubeconfig(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../deploy/controller/rbac.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range strings.Split(string(data), "\n---\n") {
		var obj unstructured.Unstructured
		if err := yaml.Unmarshal([]byte(doc), &obj.Object); err != nil || len(obj.Object) == 0 {
			continue
		}
		gvk := obj.GroupVersionKind()
		m, err := stack.kube.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := stack.kube.Dynamic.Resource(m.Resource).Apply(context.Background(), obj.GetName(), &obj,
			metav1.ApplyOptions{FieldManager: "kindling-e2e", Force: true}); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := clientcmd.NewDefaultClientConfigLoadingRules().Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range raw.AuthInfos {
		a.Impersonate = workerIdentity
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*raw, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// apply is `kubectl apply --server-side -f` of a manifest (every document) into the test's
// namespace; edit may change the SparkApplication first. It returns the SparkApplication.
func (e *ctlEnv) apply(t *testing.T, manifest []byte, edit func(u *unstructured.Unstructured)) *unstructured.Unstructured {
	t.Helper()
	var app *unstructured.Unstructured
	for _, doc := range strings.Split(string(manifest), "\n---") {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
			t.Fatal(err)
		}
		if len(u.Object) == 0 {
			continue
		}
		u.SetNamespace(e.ns)
		gvk := u.GroupVersionKind()
		if gvk.Kind == "SparkApplication" && edit != nil {
			edit(u)
		}
		m, err := stack.kube.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Fatal(err)
		}
		out, err := stack.kube.Dynamic.Resource(m.Resource).Namespace(e.ns).Apply(context.Background(), u.GetName(), u,
			metav1.ApplyOptions{FieldManager: "kubectl", Force: true})
		if err != nil {
			t.Fatalf("apply %s %s: %v", gvk.Kind, u.GetName(), err)
		}
		if gvk.Kind == "SparkApplication" {
			app = out
		}
	}
	if app == nil {
		t.Fatal("no SparkApplication in the manifest")
	}
	return app
}

func (e *ctlEnv) get(t *testing.T, name string) (*v1beta2.SparkApplication, bool) {
	t.Helper()
	u, err := stack.kube.Dynamic.Resource(sparkApps).Namespace(e.ns).Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	app := &v1beta2.SparkApplication{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, app); err != nil {
		t.Fatal(err)
	}
	return app, true
}

// waitState is `kubectl wait --for=jsonpath='{.status.applicationState.state}'=STATE`.
func (e *ctlEnv) waitState(t *testing.T, name string, want v1beta2.ApplicationStateType, timeout time.Duration) *v1beta2.SparkApplication {
	t.Helper()
	var app *v1beta2.SparkApplication
	deadline := time.Now().Add(timeout)
	for {
		app, _ = e.get(t, name)
		if app != nil && app.Status.AppState.State == want {
			return app
		}
		if time.Now().After(deadline) {
			var st []byte
			if app != nil {
				st, _ = json.Marshal(app.Status)
			}
			t.Fatalf("%s not %s after %s; status %s", name, want, timeout, st)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// states records every state the object's status passes through, from a watch.
type states struct {
	mu  sync.Mutex
	seq []string
}

func (e *ctlEnv) watchStates(t *testing.T, name string) *states {
	t.Helper()
	w, err := stack.kube.Dynamic.Resource(sparkApps).Namespace(e.ns).Watch(context.Background(),
		metav1.ListOptions{FieldSelector: "metadata.name=" + name})
	if err != nil {
		t.Fatal(err)
	}
	s := &states{}
	t.Cleanup(w.Stop)
	go func() {
		for ev := range w.ResultChan() {
			u, ok := ev.Object.(*unstructured.Unstructured)
			if !ok {
				continue
			}
			st, _, _ := unstructured.NestedString(u.Object, "status", "applicationState", "state")
			s.mu.Lock()
			if len(s.seq) == 0 || s.seq[len(s.seq)-1] != st {
				s.seq = append(s.seq, st)
			}
			s.mu.Unlock()
		}
	}()
	return s
}

func (s *states) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.seq, " → ")
}

func (s *states) saw(state string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.seq {
		if x == state {
			return true
		}
	}
	return false
}

// table is `kubectl get sparkapp NAME`: the API server's table view with the CRD's columns.
func (e *ctlEnv) table(t *testing.T, name string) map[string]string {
	t.Helper()
	hc, err := rest.HTTPClientFor(stack.kube.Config)
	if err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("%s/apis/sparkoperator.k8s.io/v1beta2/namespaces/%s/sparkapplications/%s", strings.TrimSuffix(stack.kube.Config.Host, "/"), e.ns, name)
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept", "application/json;as=Table;g=meta.k8s.io;v=v1")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var tab metav1.Table
	if err := json.Unmarshal(body, &tab); err != nil || len(tab.Rows) != 1 {
		t.Fatalf("table view of %s: %v: %s", name, err, body)
	}
	out := map[string]string{}
	for i, c := range tab.ColumnDefinitions {
		out[c.Name] = fmt.Sprint(tab.Rows[0].Cells[i])
	}
	return out
}

func (e *ctlEnv) pods(t *testing.T, selector string) []corev1.Pod {
	t.Helper()
	l, err := stack.kube.Kube.CoreV1().Pods(e.ns).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	var out []corev1.Pod
	for _, p := range l.Items {
		if p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out
}

// shortApp is spark-pi as a SparkApplication named name, its emulated driver running for
// duration and ending with exit code exit.
func shortApp(name, duration string, exit int) []byte {
	return []byte(fmt.Sprintf(`apiVersion: sparkoperator.k8s.io/v1beta2
kind: SparkApplication
metadata:
  name: %s
spec:
  type: Scala
  mode: cluster
  image: apache/spark:4.0.4
  sparkVersion: 4.0.4
  mainClass: org.apache.spark.examples.SparkPi
  mainApplicationFile: local:///opt/spark/examples/jars/spark-examples.jar
  restartPolicy: {type: Never}
  driver:
    cores: 1
    memory: 512m
    serviceAccount: spark
    labels: {dag_id: nightly, task_id: pi}
    annotations: {emulator.kindling.dev/duration: "%s", emulator.kindling.dev/exit-code: "%d"}
  executor: {instances: 1, cores: 1, memory: 512m}
`, name, duration, exit))
}

// Controller mode, as Airflow, Argo and kubectl users meet it: `kubectl apply` a
// SparkApplication and read its status.
func TestControllerMode(t *testing.T) {
	t.Parallel()
	e := newCtlEnv(t, 2)
	t.Run("group", func(t *testing.T) {
		t.Run("operator examples", func(t *testing.T) { e.examples(t) })
		t.Run("failed", func(t *testing.T) { t.Parallel(); e.failed(t) })
		t.Run("invalid", func(t *testing.T) { t.Parallel(); e.invalid(t) })
		t.Run("delete mid-run", func(t *testing.T) { t.Parallel(); e.deleteMidRun(t) })
		t.Run("edit mid-run", func(t *testing.T) { t.Parallel(); e.editMidRun(t) })
		t.Run("suspend and resume", func(t *testing.T) { t.Parallel(); e.suspend(t) })
		t.Run("created suspended", func(t *testing.T) { t.Parallel(); e.createdSuspended(t) })
		t.Run("suspend undone at once", func(t *testing.T) { t.Parallel(); e.suspendUndone(t) })
		t.Run("scheduled", func(t *testing.T) { t.Parallel(); e.scheduled(t) })
		t.Run("scheduled example", func(t *testing.T) { t.Parallel(); e.scheduledExample(t) })
	})
}

// Two replicas elect one leader; when it dies mid-run, the other takes over the object and the
// run (its workflow goes on on the other worker) and the status reaches COMPLETED, one run.
func TestControllerFailsOver(t *testing.T) {
	t.Parallel()
	e := newCtlEnv(t, 2, "KINDLING_LOG_LEVEL=info")
	leads := func(w *ownWorker) bool {
		b, _ := os.ReadFile(w.logs)
		return strings.Contains(string(b), "Successfully acquired lease")
	}
	leader := -1
	waitFor(t, time.Minute, "a leader", func() bool {
		for i, w := range e.workers {
			if leads(w) {
				leader = i
				return true
			}
		}
		return false
	})
	e.apply(t, shortApp("failover", "20s", 0), nil)
	e.waitState(t, "failover", v1beta2.ApplicationStateRunning, 2*time.Minute)
	e.workers[leader].kill()
	app := e.waitState(t, "failover", v1beta2.ApplicationStateCompleted, 3*time.Minute)
	if !leads(e.workers[1-leader]) {
		t.Error("the other replica never took the lease")
	}
	if app.Status.ExecutionAttempts != 1 {
		t.Errorf("executionAttempts %d: the driver should have run on, once", app.Status.ExecutionAttempts)
	}
	resp, err := stack.temporal.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
		Query: fmt.Sprintf("KindlingNamespace = '%s' AND KindlingJobName = 'failover'", e.ns)})
	if err != nil || len(resp.GetExecutions()) != 1 {
		t.Errorf("%d runs for one generation (%v)", len(resp.GetExecutions()), err)
	}
}

func (e *ctlEnv) examples(t *testing.T) {
	for _, f := range jobtest.ExampleFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// The prometheus example holds placeholders its reader is to fill in.
		data = []byte(strings.NewReplacer("{IMAGE_REGISTRY}", "registry.example.com", "{IMAGE_REPOSITORY}", "spark").Replace(string(data)))
		if kind, _ := job.KindOf(data); kind != "SparkApplication" {
			continue
		}
		base := filepath.Base(f)
		t.Run(base, func(t *testing.T) {
			t.Parallel()
			// Several examples share a name (spark-pi): each gets its file's.
			name := strings.TrimSuffix(base, ".yaml")
			what, extra := needsExtraScheduler[base]
			seen := e.watchStates(t, name)
			e.apply(t, data, func(u *unstructured.Unstructured) {
				u.SetName(name)
				if extra {
					// Without its scheduler a driver stays unscheduled: a short start timeout
					// ends it, with the reason, instead of the default ten minutes.
					_ = unstructured.SetNestedField(u.Object, "15s", "spec", "sparkConf", job.ConfDriverStartTimeout)
				}
			})
			if extra {
				app := e.waitState(t, name, v1beta2.ApplicationStateFailed, 2*time.Minute)
				if app.Status.AppState.ErrorMessage == "" {
					t.Fatalf("FAILED without a message (needs %s)", what)
				}
				t.Logf("needs %s, which the local stack does not run: FAILED with %q", what, app.Status.AppState.ErrorMessage)
				return
			}
			app := e.waitState(t, name, v1beta2.ApplicationStateCompleted, 4*time.Minute)
			t.Logf("%s: %s", name, seen)
			if base == "spark-pi.yaml" {
				saveHistoryAs(t, app.Annotations[controller.AnnotationWorkflowID], "ControllerCompleted")
			}
			if seen.saw("UNKNOWN") {
				t.Errorf("the state passed through UNKNOWN: %s", seen)
			}
			st := app.Status
			if st.SubmissionID == "" || st.SparkApplicationID == "" || st.ExecutionAttempts != 1 || st.SubmissionAttempts != 1 ||
				st.LastSubmissionAttemptTime.IsZero() || st.TerminationTime.IsZero() || st.DriverInfo.PodName != name+"-driver" {
				b, _ := json.Marshal(st)
				t.Errorf("status lacks what the operator writes: %s", b)
			}
			// driverInfo names the UI's service and port, and the service is there.
			if di := st.DriverInfo; di.WebUIServiceName == "" || di.WebUIPort != 4040 || di.WebUIAddress != fmt.Sprintf("%s.%s.svc:4040", di.WebUIServiceName, e.ns) {
				t.Errorf("driverInfo %+v", di)
			} else if _, err := stack.kube.Kube.CoreV1().Services(e.ns).Get(context.Background(), di.WebUIServiceName, metav1.GetOptions{}); err != nil {
				t.Errorf("driverInfo.webUIServiceName: %v", err)
			}
			row := e.table(t, name)
			if row["Status"] != "COMPLETED" || row["Attempts"] != "1" || row["Start"] == "" || row["Start"] == "<nil>" || row["Finish"] == "" || row["Finish"] == "<nil>" {
				t.Errorf("kubectl get sparkapp shows %v", row)
			}
			// Airflow's contract: the driver pod is <name>-driver with the Spark container and the
			// spec's driver labels, owned by the object, and kept after the end.
			pod, err := stack.kube.Kube.CoreV1().Pods(e.ns).Get(context.Background(), name+"-driver", metav1.GetOptions{})
			if err != nil {
				t.Fatalf("driver pod %s-driver: %v", name, err)
			}
			if pod.Spec.Containers[0].Name != job.DriverContainerName || pod.Labels[job.LabelSparkRole] != "driver" ||
				pod.Labels[render.LabelOperatorAppName] != name || pod.Labels[render.LabelOperatorSubmissionID] != st.SubmissionID {
				t.Errorf("driver pod: container %s, labels %v", pod.Spec.Containers[0].Name, pod.Labels)
			}
			var spec struct {
				Spec job.SparkApplicationSpec `json:"spec"`
			}
			_ = yaml.Unmarshal(data, &spec)
			for k, v := range spec.Spec.Driver.Labels {
				if pod.Labels[k] != v {
					t.Errorf("driver label %s=%s from the spec is missing: %v", k, v, pod.Labels)
				}
			}
			if len(pod.OwnerReferences) != 1 || pod.OwnerReferences[0].UID != app.UID || pod.OwnerReferences[0].Kind != "SparkApplication" {
				t.Errorf("driver pod owners %v", pod.OwnerReferences)
			}
			if ttl := app.Spec.TimeToLiveSeconds; ttl != nil {
				// timeToLiveSeconds deletes the object after it ends, and its pods with it.
				waitFor(t, time.Duration(*ttl)*time.Second+time.Minute, "the object's TTL", func() bool {
					_, ok := e.get(t, name)
					return !ok
				})
				waitFor(t, time.Minute, "its pods to go", func() bool { return len(e.pods(t, render.LabelOperatorAppName+"="+name)) == 0 })
			}
		})
	}
}

func (e *ctlEnv) failed(t *testing.T) {
	e.apply(t, shortApp("fails", "2s", 3), nil)
	app := e.waitState(t, "fails", v1beta2.ApplicationStateFailed, 2*time.Minute)
	if got, want := app.Status.AppState.ErrorMessage, "driver container failed with ExitCode: 3, Reason: Error"; got != want {
		t.Errorf("errorMessage %q, want the operator's %q", got, want)
	}
	if app.Status.TerminationTime.IsZero() {
		t.Error("no terminationTime")
	}
	saveHistoryAs(t, app.Annotations[controller.AnnotationWorkflowID], "ControllerFailed")
}

// An invalid spec fails before any pod exists, and errorMessage names the field and the rule.
func (e *ctlEnv) invalid(t *testing.T) {
	e.apply(t, shortApp("invalid", "1s", 0), func(u *unstructured.Unstructured) {
		_ = unstructured.SetNestedField(u.Object, "-3", "spec", "sparkConf", "spark.executor.instances")
		_ = unstructured.SetNestedField(u.Object, "Kotlin", "spec", "type")
	})
	app := e.waitState(t, "invalid", v1beta2.ApplicationStateFailed, time.Minute)
	msg := app.Status.AppState.ErrorMessage
	if !strings.Contains(msg, "spec.type") {
		t.Errorf("errorMessage %q does not name spec.type", msg)
	}
	if n := len(e.pods(t, render.LabelOperatorAppName+"=invalid")); n != 0 {
		t.Errorf("%d pods for an invalid spec", n)
	}
	t.Logf("invalid: %s", msg)
}

func (e *ctlEnv) deleteMidRun(t *testing.T) {
	e.apply(t, shortApp("deleted", "5m", 0), nil)
	e.waitState(t, "deleted", v1beta2.ApplicationStateRunning, 2*time.Minute)
	if err := stack.kube.Dynamic.Resource(sparkApps).Namespace(e.ns).Delete(context.Background(), "deleted", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Minute, "the object to go", func() bool { _, ok := e.get(t, "deleted"); return !ok })
	if n := len(e.pods(t, render.LabelOperatorAppName+"=deleted")); n != 0 {
		t.Errorf("%d pods left once the object is gone: the finalizer waits for the run's cleanup", n)
	}
}

func (e *ctlEnv) editMidRun(t *testing.T) {
	e.apply(t, shortApp("edited", "5m", 0), nil)
	seen := e.watchStates(t, "edited")
	e.waitState(t, "edited", v1beta2.ApplicationStateRunning, 2*time.Minute)
	first, err := stack.kube.Kube.CoreV1().Pods(e.ns).Get(context.Background(), "edited-driver", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	firstRun, _ := e.get(t, "edited")
	// The edit: a shorter run. The operator invalidates the running app and submits anew.
	e.apply(t, shortApp("edited", "2s", 0), nil)
	app := e.waitState(t, "edited", v1beta2.ApplicationStateCompleted, 3*time.Minute)
	t.Logf("edited: %s", seen)
	if !seen.saw("INVALIDATING") {
		t.Errorf("no INVALIDATING on the way: %s", seen)
	}
	if app.Status.ExecutionAttempts != 1 {
		t.Errorf("executionAttempts %d after the rerun, want 1 (reset)", app.Status.ExecutionAttempts)
	}
	now, err := stack.kube.Kube.CoreV1().Pods(e.ns).Get(context.Background(), "edited-driver", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if now.UID == first.UID {
		t.Error("the driver is the first run's: the edit did not rerun it")
	}
	saveHistoryAs(t, firstRun.Annotations[controller.AnnotationWorkflowID], "ControllerInvalidated")
}

func (e *ctlEnv) suspend(t *testing.T) {
	e.apply(t, shortApp("suspended", "15s", 0), nil)
	e.waitState(t, "suspended", v1beta2.ApplicationStateRunning, 2*time.Minute)
	patch := func(v bool) {
		b := fmt.Sprintf(`{"spec":{"suspend":%v}}`, v)
		if _, err := stack.kube.Dynamic.Resource(sparkApps).Namespace(e.ns).Patch(context.Background(), "suspended",
			types.MergePatchType, []byte(b), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	seen := e.watchStates(t, "suspended")
	t.Cleanup(func() { t.Logf("suspended: %s", seen) })
	patch(true)
	e.waitState(t, "suspended", v1beta2.ApplicationStateSuspended, time.Minute)
	if n := len(e.pods(t, render.LabelOperatorAppName+"=suspended")); n != 0 {
		t.Errorf("%d pods while SUSPENDED", n)
	}
	patch(false)
	app := e.waitState(t, "suspended", v1beta2.ApplicationStateCompleted, 2*time.Minute)
	t.Logf("suspended: %s", seen)
	if !seen.saw("RESUMING") {
		t.Errorf("no RESUMING on the way: %s", seen)
	}
	if !ptr.Equal(app.Spec.Suspend, ptr.To(false)) {
		t.Errorf("spec.suspend %v", app.Spec.Suspend)
	}
}

// A suspend undone before its run was cancelled (Kueue evicting and admitting again) runs the
// application again; it never ends FAILED as a cancelled run.
func (e *ctlEnv) suspendUndone(t *testing.T) {
	e.apply(t, shortApp("readmitted", "10s", 0), nil)
	e.waitState(t, "readmitted", v1beta2.ApplicationStateRunning, 2*time.Minute)
	seen := e.watchStates(t, "readmitted")
	for _, v := range []bool{true, false} {
		if _, err := stack.kube.Dynamic.Resource(sparkApps).Namespace(e.ns).Patch(context.Background(), "readmitted",
			types.MergePatchType, []byte(fmt.Sprintf(`{"spec":{"suspend":%v}}`, v)), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	e.waitState(t, "readmitted", v1beta2.ApplicationStateCompleted, 2*time.Minute)
	t.Logf("readmitted: %s", seen)
	if seen.saw("FAILED") {
		t.Errorf("passed through FAILED: %s", seen)
	}
}

// An object created suspended (as Kueue creates them) starts nothing until suspend is cleared.
func (e *ctlEnv) createdSuspended(t *testing.T) {
	e.apply(t, shortApp("queued", "1s", 0), func(u *unstructured.Unstructured) {
		_ = unstructured.SetNestedField(u.Object, true, "spec", "suspend")
	})
	e.waitState(t, "queued", v1beta2.ApplicationStateSuspended, time.Minute)
	if n := len(e.pods(t, render.LabelOperatorAppName+"=queued")); n != 0 {
		t.Errorf("%d pods for a suspended object", n)
	}
	if _, err := stack.kube.Dynamic.Resource(sparkApps).Namespace(e.ns).Patch(context.Background(), "queued",
		types.MergePatchType, []byte(`{"spec":{"suspend":false}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitState(t, "queued", v1beta2.ApplicationStateCompleted, 2*time.Minute)
}

// A controller refuses to start beside a live kubeflow Spark operator.
func TestControllerRefusesALiveOperator(t *testing.T) {
	// Not parallel: while the operator's lease exists, no controller may start.
	ctx := context.Background()
	if err := controller.InstallCRDs(ctx, stack.kube.Config, "../deploy/crds"); err != nil {
		t.Fatal(err)
	}
	leases := stack.kube.Kube.CoordinationV1().Leases(ns)
	now := metav1.NewMicroTime(time.Now())
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "spark-operator-controller-lock"}, Spec: coordinationv1.LeaseSpec{
		HolderIdentity: ptr.To("spark-operator-controller-7d9f_1"), LeaseDurationSeconds: ptr.To(int32(15)), RenewTime: &now,
	}}
	if _, err := leases.Create(ctx, lease, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = leases.Delete(context.Background(), lease.Name, metav1.DeleteOptions{}) }()
	w := newOwnWorker(t, "kindling-ctl-refuse-"+uuid.NewString()[:8], "KINDLING_CONTROLLER=true", "KINDLING_LEADER_ELECTION_ID=kindling-controller-refuse")
	select {
	case <-w.exit:
	case <-time.After(time.Minute):
		t.Fatal("the worker kept running beside a live Spark operator")
	}
	b, _ := os.ReadFile(w.logs)
	if !strings.Contains(string(b), "a kubeflow Spark operator is running here: lease default/spark-operator-controller-lock") || w.cmd.ProcessState.ExitCode() == 0 {
		t.Fatalf("exit %d, log:\n%s", w.cmd.ProcessState.ExitCode(), b)
	}
}

var scheduledApps = schema.GroupVersionResource{Group: "sparkoperator.k8s.io", Version: "v1beta2", Resource: "scheduledsparkapplications"}

func (e *ctlEnv) getScheduled(t *testing.T, name string) (*v1beta2.ScheduledSparkApplication, bool) {
	t.Helper()
	u, err := stack.kube.Dynamic.Resource(scheduledApps).Namespace(e.ns).Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	s := &v1beta2.ScheduledSparkApplication{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, s); err != nil {
		t.Fatal(err)
	}
	return s, true
}

// A ScheduledSparkApplication runs on its own: each fire time makes a SparkApplication owned by
// it, which runs; its status shows the last run and the next; old runs beyond the history
// limit go; deleting it removes its Temporal schedule and its runs.
func (e *ctlEnv) scheduled(t *testing.T) {
	app := shortApp("nightly", "1s", 0)
	var tmpl map[string]any
	if err := yaml.Unmarshal(app, &tmpl); err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "sparkoperator.k8s.io/v1beta2", "kind": "ScheduledSparkApplication",
		"metadata": map[string]any{"name": "nightly", "namespace": e.ns},
		"spec": map[string]any{"schedule": "@every 10s", "concurrencyPolicy": "Forbid",
			"successfulRunHistoryLimit": int64(1), "template": tmpl["spec"]},
	}}
	if _, err := stack.kube.Dynamic.Resource(scheduledApps).Namespace(e.ns).Apply(context.Background(), "nightly", u,
		metav1.ApplyOptions{FieldManager: "kubectl", Force: true}); err != nil {
		t.Fatal(err)
	}
	var first string
	waitFor(t, 90*time.Second, "a run to complete", func() bool {
		s, _ := e.getScheduled(t, "nightly")
		if s == nil || len(s.Status.PastSuccessfulRunNames) == 0 {
			return false
		}
		first = s.Status.PastSuccessfulRunNames[0]
		return true
	})
	s, _ := e.getScheduled(t, "nightly")
	if s.Status.ScheduleState != v1beta2.ScheduleStateScheduled || s.Status.NextRun.IsZero() || s.Status.LastRun.IsZero() ||
		!strings.HasPrefix(s.Status.LastRunName, "nightly-") {
		b, _ := json.Marshal(s.Status)
		t.Errorf("status %s", b)
	}
	run, ok := e.get(t, first)
	if !ok || run.Status.AppState.State != v1beta2.ApplicationStateCompleted || !metav1.IsControlledBy(run, s) {
		t.Fatalf("run %s: %v", first, run)
	}
	// The run's workflow ends once it sees its SparkApplication COMPLETED.
	var done []string
	waitFor(t, time.Minute, "the scheduled run's workflow to complete", func() bool {
		resp, err := stack.temporal.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf("WorkflowType = '%s' AND KindlingNamespace = '%s' AND ExecutionStatus = 'Completed'", workflows.ScheduledAppRunWorkflowName, e.ns)})
		done = nil
		for _, x := range resp.GetExecutions() {
			done = append(done, x.GetExecution().GetWorkflowId())
		}
		return err == nil && len(done) > 0
	})
	saveHistoryAs(t, done[0], "ControllerScheduledRun")
	// A later run completes; successfulRunHistoryLimit 1 removes the first.
	waitFor(t, 90*time.Second, "a second run to complete and the first to go", func() bool {
		s, _ := e.getScheduled(t, "nightly")
		_, firstLeft := e.get(t, first)
		return len(s.Status.PastSuccessfulRunNames) == 1 && s.Status.PastSuccessfulRunNames[0] != first && !firstLeft
	})
	if err := stack.kube.Dynamic.Resource(scheduledApps).Namespace(e.ns).Delete(context.Background(), "nightly", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "the schedule object to go", func() bool { _, ok := e.getScheduled(t, "nightly"); return !ok })
	_, err := stack.temporal.ScheduleClient().GetHandle(context.Background(), controller.ScheduleID(s)).Describe(context.Background())
	if err == nil {
		t.Error("the Temporal schedule outlived its ScheduledSparkApplication")
	}
	waitFor(t, time.Minute, "its runs to go with it", func() bool {
		l, err := stack.kube.Dynamic.Resource(sparkApps).Namespace(e.ns).List(context.Background(),
			metav1.ListOptions{LabelSelector: "sparkoperator.k8s.io/scheduled-app-name=nightly"})
		return err == nil && len(l.Items) == 0
	})
}

// The operator's scheduled example applies unchanged and is Scheduled with its next run.
func (e *ctlEnv) scheduledExample(t *testing.T) {
	for _, f := range jobtest.ExampleFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if kind, _ := job.KindOf(data); kind != "ScheduledSparkApplication" {
			continue
		}
		var u unstructured.Unstructured
		if err := yaml.Unmarshal(data, &u.Object); err != nil {
			t.Fatal(err)
		}
		u.SetNamespace(e.ns)
		if _, err := stack.kube.Dynamic.Resource(scheduledApps).Namespace(e.ns).Apply(context.Background(), u.GetName(), &u,
			metav1.ApplyOptions{FieldManager: "kubectl", Force: true}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, time.Minute, u.GetName()+" to be Scheduled", func() bool {
			s, _ := e.getScheduled(t, u.GetName())
			return s != nil && s.Status.ScheduleState == v1beta2.ScheduleStateScheduled && !s.Status.NextRun.IsZero()
		})
		s, _ := e.getScheduled(t, u.GetName())
		t.Logf("%s: Scheduled, next run %s", u.GetName(), s.Status.NextRun)
		// Suspend pauses it: no next run.
		if _, err := stack.kube.Dynamic.Resource(scheduledApps).Namespace(e.ns).Patch(context.Background(), u.GetName(),
			types.MergePatchType, []byte(`{"spec":{"suspend":true}}`), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, time.Minute, "suspend to clear nextRun", func() bool {
			s, _ := e.getScheduled(t, u.GetName())
			return s.Status.NextRun.IsZero()
		})
	}
}

// A deleted object keeps its finalizer while no controller runs, and its pods with it; a
// controller that comes back cancels the run, removes the pods and lets the object go.
func TestControllerFinalizerWaitsForTheController(t *testing.T) {
	t.Parallel()
	e := newCtlEnv(t, 1)
	e.apply(t, shortApp("orphan", "5m", 0), nil)
	e.waitState(t, "orphan", v1beta2.ApplicationStateRunning, 2*time.Minute)
	w := e.workers[0]
	w.stop()
	if err := stack.kube.Dynamic.Resource(sparkApps).Namespace(e.ns).Delete(context.Background(), "orphan", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	app, ok := e.get(t, "orphan")
	if !ok || app.DeletionTimestamp.IsZero() || len(e.pods(t, render.LabelOperatorAppName+"=orphan")) == 0 {
		t.Fatalf("with no controller the deleted object must wait, with its pods: found %v", ok)
	}
	// Meanwhile, an object the operator ran before Kindling took over (a migration).
	migrated := e.apply(t, shortApp("migrated", "1s", 0), nil)
	migrated.Object["status"] = map[string]any{"applicationState": map[string]any{"state": "COMPLETED"}, "executionAttempts": int64(1),
		"driverInfo": map[string]any{"podName": "migrated-driver"}}
	if _, err := stack.kube.Dynamic.Resource(sparkApps).Namespace(e.ns).UpdateStatus(context.Background(), migrated, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	w.start()
	waitFor(t, 2*time.Minute, "the object to go once the controller is back", func() bool { _, ok := e.get(t, "orphan"); return !ok })
	if n := len(e.pods(t, render.LabelOperatorAppName+"=orphan")); n != 0 {
		t.Errorf("%d pods left", n)
	}
	// The migrated object is adopted as it stands, not run again.
	waitFor(t, time.Minute, "the migrated object to be adopted", func() bool {
		app, _ = e.get(t, "migrated")
		return app.Annotations[controller.AnnotationSpecHash] != ""
	})
	if app.Annotations[controller.AnnotationWorkflowID] != "" || app.Status.AppState.State != v1beta2.ApplicationStateCompleted ||
		len(e.pods(t, render.LabelOperatorAppName+"=migrated")) != 0 {
		t.Errorf("the operator's finished object was run again: annotations %v, state %s", app.Annotations, app.Status.AppState.State)
	}
}

// Every operator example goes through the API server with Kindling's CRD and loses no field of
// its spec (a structural schema prunes unknown fields silently).
func TestCRDKeepsEveryFieldOfTheExamples(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	if err := controller.InstallCRDs(ctx, stack.kube.Config, "../deploy/crds"); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range jobtest.ExampleFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range strings.Split(string(data), "\n---") {
			var in unstructured.Unstructured
			if err := yaml.Unmarshal([]byte(doc), &in.Object); err != nil || len(in.Object) == 0 {
				continue
			}
			r := map[string]schema.GroupVersionResource{"SparkApplication": sparkApps, "ScheduledSparkApplication": scheduledApps}[in.GetKind()]
			if r.Resource == "" {
				continue
			}
			n++
			in.SetName("roundtrip-" + strings.TrimSuffix(filepath.Base(f), ".yaml"))
			out, err := stack.kube.Dynamic.Resource(r).Namespace(ns).Apply(ctx, in.GetName(), &in,
				metav1.ApplyOptions{FieldManager: "kubectl", Force: true, DryRun: []string{metav1.DryRunAll}})
			if err != nil {
				t.Errorf("%s: %v", filepath.Base(f), err)
				continue
			}
			if want, got := normalized(t, in.Object["spec"]), normalized(t, out.Object["spec"]); !reflect.DeepEqual(want, got) {
				w, _ := json.Marshal(want)
				g, _ := json.Marshal(got)
				t.Errorf("%s: the API server kept\n%s\nof\n%s", filepath.Base(f), g, w)
			}
		}
	}
	if n == 0 {
		t.Fatal("no SparkApplication among the examples")
	}
	t.Logf("%d objects round-tripped with every field", n)
}

// normalized is v through JSON, so numbers compare alike whichever decoder read them.
func normalized(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
