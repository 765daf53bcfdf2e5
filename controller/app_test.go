package controller

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"github.com/kindling-dev/kindling/k8s/api/v1beta2"
	"github.com/kindling-dev/kindling/k8s/job"
)

func sparkApp() *v1beta2.SparkApplication {
	return &v1beta2.SparkApplication{
		ObjectMeta: metav1.ObjectMeta{Name: "etl", Namespace: "team-a", UID: "0b6c-uid", Generation: 3, Labels: map[string]string{"team": "data"}},
		Spec: job.SparkApplicationSpec{
			Type: "Scala", Mode: "cluster", Image: "spark:3.5.1", MainClass: "org.example.ETL",
			MainApplicationFile: "local:///opt/etl.jar", Arguments: []string{"--day", "2026-03-01"},
			SparkConf: map[string]string{"spark.sql.shuffle.partitions": "64"},
			Driver:    job.DriverSpec{SparkPodSpec: job.SparkPodSpec{Annotations: map[string]string{"a": "1"}}},
		},
	}
}

func TestWorkflowID(t *testing.T) {
	app := sparkApp()
	if got, want := WorkflowID(app), "sparkapp/team-a/etl/0b6c-uid/g3"; got != want {
		t.Errorf("WorkflowID = %q, want %q", got, want)
	}
	app.Generation = 4
	if got, want := WorkflowID(app), "sparkapp/team-a/etl/0b6c-uid/g4"; got != want {
		t.Errorf("WorkflowID after an edit = %q, want %q", got, want)
	}
	app.UID = "other-uid" // deleted and created again under the same name
	if got, want := WorkflowID(app), "sparkapp/team-a/etl/other-uid/g4"; got != want {
		t.Errorf("WorkflowID of a recreated object = %q, want %q", got, want)
	}
}

func TestDriverPodName(t *testing.T) {
	tests := []struct {
		name    string
		podName string
		conf    map[string]string
		want    string
	}{
		{"spec.driver.podName first", "custom-driver", map[string]string{"spark.kubernetes.driver.pod.name": "from-conf"}, "custom-driver"},
		{"else the sparkConf key", "", map[string]string{"spark.kubernetes.driver.pod.name": "from-conf"}, "from-conf"},
		{"an empty conf value is ignored", "", map[string]string{"spark.kubernetes.driver.pod.name": ""}, "etl-driver"},
		{"else <name>-driver (Airflow relies on it)", "", nil, "etl-driver"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app := sparkApp()
			app.Spec.Driver.PodName, app.Spec.SparkConf = tc.podName, tc.conf
			if got := DriverPodName(app); got != tc.want {
				t.Errorf("DriverPodName = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSpecHash(t *testing.T) {
	base := SpecHash(&sparkApp().Spec)
	if len(base) != 16 || strings.Trim(base, "0123456789abcdef") != "" {
		t.Fatalf("SpecHash = %q, want 16 hex digits", base)
	}
	tests := []struct {
		name    string
		edit    func(*job.SparkApplicationSpec)
		changes bool
	}{
		{"suspend", func(s *job.SparkApplicationSpec) { s.Suspend = ptr.To(true) }, false},
		{"suspend false", func(s *job.SparkApplicationSpec) { s.Suspend = ptr.To(false) }, false},
		{"timeToLiveSeconds", func(s *job.SparkApplicationSpec) { s.TimeToLiveSeconds = ptr.To[int64](3600) }, false},
		{"arguments", func(s *job.SparkApplicationSpec) { s.Arguments[1] = "2026-03-02" }, true},
		{"driver annotations", func(s *job.SparkApplicationSpec) { s.Driver.Annotations["a"] = "2" }, true},
		{"sparkConf", func(s *job.SparkApplicationSpec) { s.SparkConf["spark.sql.shuffle.partitions"] = "128" }, true},
		{"image", func(s *job.SparkApplicationSpec) { s.Image = "spark:3.5.2" }, true},
		{"driver.podName", func(s *job.SparkApplicationSpec) { s.Driver.PodName = "custom" }, true},
		{"failureRetries", func(s *job.SparkApplicationSpec) { s.FailureRetries = ptr.To[int32](2) }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := sparkApp().Spec
			tc.edit(&spec)
			before := *spec.DeepCopy()
			got := SpecHash(&spec)
			if (got != base) != tc.changes {
				t.Errorf("SpecHash after editing %s = %s (base %s); want changed=%v", tc.name, got, base, tc.changes)
			}
			if d := cmp.Diff(before, spec); d != "" {
				t.Errorf("SpecHash modified the spec (-before +after):\n%s", d)
			}
		})
	}
}

func TestJobSpec(t *testing.T) {
	app := sparkApp()
	app.Spec.Driver.PodName = "custom-driver"
	app.Spec.SparkConf["spark.kubernetes.driver.pod.name"] = "from-conf"
	app.Spec.Suspend = ptr.To(false)
	app.Spec.TimeToLiveSeconds = ptr.To[int64](60)
	orig := app.DeepCopy()

	got := JobSpec(app)

	wantSpec := sparkApp().Spec
	wantSpec.TimeToLiveSeconds = ptr.To[int64](60)
	want := job.JobSpec{Name: "etl", Namespace: "team-a", Labels: map[string]string{"team": "data"}, SparkApplicationSpec: wantSpec}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("JobSpec (-want +got):\n%s", d)
	}
	if d := cmp.Diff(orig, app); d != "" {
		t.Errorf("JobSpec modified the SparkApplication (-before +after):\n%s", d)
	}
	// The job's conf is its own: editing it leaves the object alone.
	got.SparkConf["spark.sql.shuffle.partitions"] = "1"
	if app.Spec.SparkConf["spark.sql.shuffle.partitions"] != "64" {
		t.Error("JobSpec's sparkConf shares the object's map")
	}
}

func lease(ns, name, holder string, renewedAgo time.Duration, durationSec *int32) *coordinationv1.Lease {
	l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: coordinationv1.LeaseSpec{LeaseDurationSeconds: durationSec}}
	if holder != "-" {
		l.Spec.HolderIdentity = ptr.To(holder)
	}
	if renewedAgo >= 0 {
		l.Spec.RenewTime = &metav1.MicroTime{Time: now.Add(-renewedAgo)}
	}
	return l
}

func TestOperatorLease(t *testing.T) {
	const opName = "spark-operator-controller-lock"
	tests := []struct {
		name  string
		lease *coordinationv1.Lease
		held  bool
		ago   time.Duration
	}{
		{"the operator's lease, renewed 5s ago", lease("spark-operator", opName, "op-pod-1", 5*time.Second, ptr.To[int32](15)), true, 5 * time.Second},
		{"a release-prefixed lease", lease("ops", "my-spark-operator-controller-lock", "op-pod-1", time.Second, nil), true, time.Second},
		{"within two default durations (15s)", lease("ops", opName, "op-pod-1", 29*time.Second, nil), true, 29 * time.Second},
		{"expired: two default durations", lease("ops", opName, "op-pod-1", 30*time.Second, nil), false, 0},
		{"a longer lease duration", lease("ops", opName, "op-pod-1", 100*time.Second, ptr.To[int32](60)), true, 100 * time.Second},
		{"expired long ago", lease("ops", opName, "op-pod-1", time.Hour, ptr.To[int32](15)), false, 0},
		{"released: empty holder", lease("ops", opName, "", time.Second, nil), false, 0},
		{"no holder", lease("ops", opName, "-", time.Second, nil), false, 0},
		{"never renewed", lease("ops", opName, "op-pod-1", -1, nil), false, 0},
		{"Kindling's own lease", lease("ops", "kindling-controller", "w-1", time.Second, nil), false, 0},
		{"the operator's webhook lease", lease("ops", "spark-operator-webhook-lock", "op-pod-1", time.Second, nil), false, 0},
		{"another controller's lock", lease("ops", "cert-manager-controller-lock", "cm-1", time.Second, nil), false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			held, ago := operatorLease(tc.lease, now)
			if held != tc.held || (held && ago != tc.ago) {
				t.Errorf("operatorLease = %v, %v; want %v, %v", held, ago, tc.held, tc.ago)
			}
		})
	}
}

func TestCheckNoOperator(t *testing.T) {
	tests := []struct {
		name    string
		objects []runtime.Object
		want    []string // in the error; none: no error
	}{
		{"no leases", nil, nil},
		{"only Kindling's and an expired operator lease", []runtime.Object{
			lease("kindling", "kindling-controller", "w-1", time.Second, nil),
			lease("spark-operator", "spark-operator-controller-lock", "op-pod-1", time.Hour, nil),
		}, nil},
		{"a live operator", []runtime.Object{
			lease("kindling", "kindling-controller", "w-1", time.Second, nil),
			lease("spark-operator", "spark-operator-controller-lock", "op-pod-1", 7*time.Second, nil),
		}, []string{"spark-operator/spark-operator-controller-lock", `"op-pod-1"`, "7s ago", "helm uninstall", "scale its controller to 0", "without --controller"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckNoOperator(context.Background(), fake.NewClientset(tc.objects...), "", now)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("CheckNoOperator: %v, want no error", err)
				}
				return
			}
			if err == nil {
				t.Fatal("CheckNoOperator: no error, want one naming the operator's lease")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestCheckNoOperatorListFails(t *testing.T) {
	kube := fake.NewClientset()
	kube.PrependReactor("list", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("leases is forbidden")
	})
	err := CheckNoOperator(context.Background(), kube, "", now)
	if err == nil || !strings.Contains(err.Error(), "look for a running Spark operator") || !strings.Contains(err.Error(), "leases is forbidden") {
		t.Errorf("CheckNoOperator = %v, want the list error, wrapped", err)
	}
}
