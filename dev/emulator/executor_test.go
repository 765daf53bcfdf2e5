package emulator

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func planFor(t *testing.T, driver *corev1.Pod, template string, props map[string]string) *ExecutorPlan {
	t.Helper()
	client := fake.NewClientset(objects(confMaps(driver, template, props))...)
	conf, err := ReadDriverConf(context.Background(), client, driver)
	if err != nil {
		t.Fatalf("ReadDriverConf: %v", err)
	}
	plan, err := PlanExecutors(driver, conf)
	if err != nil {
		t.Fatalf("PlanExecutors: %v", err)
	}
	return plan
}

func TestExecutorPodFromTemplate(t *testing.T) {
	driver := newDriver("ns", "spark-pi-driver").build()
	plan := planFor(t, driver, testTemplate, map[string]string{
		"spark.executor.memory":                      "2g",
		"spark.executor.cores":                       "2",
		"spark.kubernetes.executor.limit.cores":      "3",
		"spark.kubernetes.executor.label.cost":       "{{APP_ID}}",
		"spark.kubernetes.executor.annotation.owner": "me",
		"spark.kubernetes.executor.container.image":  "apache/spark:exec",
	})

	mem := resource.MustParse("2432Mi") // 2048 + max(204, 384)
	want := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:      "spark-pi-exec-2",
			Namespace: "ns",
			Labels: map[string]string{
				"team": "data", "cost": testAppID,
				LabelAppSelector: testAppID, LabelRole: RoleExecutor, LabelExecID: "2", LabelResourceProfileID: "0",
				LabelAppName: "spark-pi", LabelSparkVersion: "4.0.0",
				"app.kubernetes.io/managed-by": "kindling", "kindling.dev/run": "r1", "kindling.dev/attempt": "1",
			},
			Annotations: map[string]string{"owner": "me"},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "v1", Kind: "Pod", Name: "spark-pi-driver", UID: driver.UID,
				Controller: new(true), BlockOwnerDeletion: new(true),
			}},
		},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Hostname:      "spark-pi-exec-2",
			NodeSelector:  map[string]string{"type": "kwok"},
			Containers: []corev1.Container{
				{
					Name:            ExecutorContainerName,
					Image:           "apache/spark:exec",
					ImagePullPolicy: corev1.PullIfNotPresent,
					Args:            []string{"executor"},
					Env: []corev1.EnvVar{
						{Name: "SPARK_DRIVER_URL", Value: "spark://CoarseGrainedScheduler@spark-pi-driver-svc.default.svc:7078"},
						{Name: "SPARK_EXECUTOR_ID", Value: "2"},
						{Name: "SPARK_APPLICATION_ID", Value: testAppID},
						{Name: "SPARK_RESOURCE_PROFILE_ID", Value: "0"},
						{Name: "SPARK_EXECUTOR_POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}},
					},
					Resources: corev1.ResourceRequirements{
						Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: mem},
						Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("3"), corev1.ResourceMemory: mem},
					},
				},
				{Name: "log-shipper", Image: "busybox"},
			},
		},
	}
	got := plan.Pod(2)
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b resource.Quantity) bool { return a.Cmp(b) == 0 })); diff != "" {
		t.Errorf("executor pod (-want +got):\n%s", diff)
	}
}

func TestExecutorPodFromEmptyTemplate(t *testing.T) {
	b := newDriver("ns", "spark-pi-driver")
	delete(b.pod.Labels, "kindling.dev/run")
	driver := b.build()
	plan := planFor(t, driver, "", map[string]string{"spark.kubernetes.container.image": ""})

	got := plan.Pod(1)
	if got.Name != "spark-pi-exec-1" {
		t.Errorf("name = %s, want spark-pi-exec-1", got.Name)
	}
	if len(got.Spec.Containers) != 1 || got.Spec.Containers[0].Name != ExecutorContainerName {
		t.Fatalf("containers = %+v, want one named %s", got.Spec.Containers, ExecutorContainerName)
	}
	if img := got.Spec.Containers[0].Image; img != testImage {
		t.Errorf("image = %s, want the driver's %s when nothing else names one", img, testImage)
	}
	if _, ok := got.Labels["kindling.dev/run"]; ok {
		t.Errorf("label kindling.dev/run copied though the driver has none: %v", got.Labels)
	}
	if got.Spec.Containers[0].Resources.Limits.Memory().String() != "1408Mi" {
		t.Errorf("memory limit = %s, want 1408Mi", got.Spec.Containers[0].Resources.Limits.Memory())
	}
}

// What Spark's executor steps take from spark.properties, not the template: the service
// account (falling back to the driver's), scheduler, pull secrets and pull policy.
func TestExecutorPodTakesConfOnlySettings(t *testing.T) {
	b := newDriver("ns", "spark-pi-driver")
	b.pod.Spec.ServiceAccountName = "spark"
	driver := b.build()

	plan := planFor(t, driver, "", map[string]string{
		"spark.kubernetes.executor.scheduler.name":     "volcano",
		"spark.kubernetes.container.image.pullSecrets": "regcred, other",
		"spark.kubernetes.container.image.pullPolicy":  "Always",
	})
	got := plan.Pod(1)
	if got.Spec.ServiceAccountName != "spark" {
		t.Errorf("service account = %q, want the driver's %q", got.Spec.ServiceAccountName, "spark")
	}
	if got.Spec.SchedulerName != "volcano" {
		t.Errorf("scheduler = %q, want volcano", got.Spec.SchedulerName)
	}
	want := []corev1.LocalObjectReference{{Name: "regcred"}, {Name: "other"}}
	if diff := cmp.Diff(want, got.Spec.ImagePullSecrets); diff != "" {
		t.Errorf("pull secrets (-want +got):\n%s", diff)
	}
	if p := got.Spec.Containers[0].ImagePullPolicy; p != corev1.PullAlways {
		t.Errorf("pull policy = %s, want Always", p)
	}

	own := planFor(t, driver, "", map[string]string{"spark.kubernetes.authenticate.executor.serviceAccountName": "executors"})
	if sa := own.Pod(1).Spec.ServiceAccountName; sa != "executors" {
		t.Errorf("service account = %q, want executors", sa)
	}
}

func TestPlanExecutors(t *testing.T) {
	tests := []struct {
		name          string
		driverName    string
		props         map[string]string
		wantInstances int
		wantBatch     int
		wantPrefix    string
	}{
		{"spark defaults", "spark-pi-driver", map[string]string{"spark.kubernetes.executor.podNamePrefix": ""}, 2, 10, "spark-pi"},
		{"explicit", "spark-pi-driver", map[string]string{"spark.executor.instances": "25", "spark.kubernetes.allocation.batch.size": "4", "spark.kubernetes.executor.podNamePrefix": "job-7f3a"}, 25, 4, "job-7f3a"},
		{"dynamic allocation takes the largest start", "a-driver", map[string]string{"spark.kubernetes.executor.podNamePrefix": "", "spark.dynamicAllocation.enabled": "true", "spark.dynamicAllocation.minExecutors": "1", "spark.dynamicAllocation.initialExecutors": "3"}, 3, 10, "a"},
		{"dynamic allocation with nothing set starts none", "a-driver", map[string]string{"spark.kubernetes.executor.podNamePrefix": "", "spark.dynamicAllocation.enabled": "true"}, 0, 10, "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := planFor(t, newDriver("ns", tt.driverName).build(), "", tt.props)
			if plan.Instances != tt.wantInstances || plan.BatchSize != tt.wantBatch || plan.NamePrefix != tt.wantPrefix {
				t.Errorf("plan = instances %d, batch %d, prefix %q; want %d, %d, %q",
					plan.Instances, plan.BatchSize, plan.NamePrefix, tt.wantInstances, tt.wantBatch, tt.wantPrefix)
			}
		})
	}
}

// Config.scala's KUBERNETES_ALLOCATION_BATCH_SIZE defaults to 5 on Spark 3.x and 10 on 4.x.
func TestPlanExecutorsBatchDefaultFollowsTheSparkVersion(t *testing.T) {
	for version, want := range map[string]int{"3.5.3": 5, "4.0.1": 10, "": 10} {
		d := newDriver("ns", "spark-pi-driver").build()
		d.Labels[LabelSparkVersion] = version
		if plan := planFor(t, d, "", map[string]string{"spark.kubernetes.executor.podNamePrefix": ""}); plan.BatchSize != want {
			t.Errorf("Spark %q: batch %d, want %d", version, plan.BatchSize, want)
		}
	}
}

func TestPlanExecutorsRejectsBadConf(t *testing.T) {
	for _, props := range []map[string]string{
		{"spark.executor.instances": "two"},
		{"spark.kubernetes.allocation.batch.size": "0"},
		{"spark.executor.memory": "big"},
		{"spark.kubernetes.executor.deleteOnTermination": "maybe"},
	} {
		driver := newDriver("ns", "spark-pi-driver").build()
		client := fake.NewClientset(objects(confMaps(driver, "", props))...)
		conf, err := ReadDriverConf(context.Background(), client, driver)
		if err != nil {
			t.Fatalf("ReadDriverConf: %v", err)
		}
		if _, err := PlanExecutors(driver, conf); err == nil {
			t.Errorf("PlanExecutors(%v) succeeded, want an error", props)
		}
	}
}
