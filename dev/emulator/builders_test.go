package emulator

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Test-only builders for a driver as Kindling's renderer (and Spark's submission client)
// lays it out: conf ConfigMap at /opt/spark/conf, executor template ConfigMap at
// /opt/spark/pod-template.

const (
	testAppID        = "spark-0123456789abcdef0123456789abcdef"
	testTemplatePath = "/opt/spark/pod-template/pod-spec-template.yml"
	testImage        = "apache/spark:4.0.0"
)

type driverBuilder struct {
	pod *corev1.Pod
}

func newDriver(namespace, name string) *driverBuilder {
	prefix := strings.TrimSuffix(name, "-driver")
	return &driverBuilder{pod: &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: namespace, UID: types.UID("uid-" + name),
			Labels: map[string]string{
				LabelRole: RoleDriver, LabelAppSelector: testAppID, LabelAppName: "spark-pi",
				LabelSparkVersion: "4.0.0", "app.kubernetes.io/managed-by": "kindling",
				"kindling.dev/run": "r1", "kindling.dev/attempt": "1",
			},
		},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{
				Name: DriverContainerName, Image: testImage,
				Args: []string{"driver", "--properties-file", "/opt/spark/conf/spark.properties"},
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("1408Mi")},
					Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1408Mi")},
				},
				VolumeMounts: []corev1.VolumeMount{
					{Name: ConfVolumeName, MountPath: ConfDir},
					{Name: "pod-template-volume", MountPath: "/opt/spark/pod-template"},
				},
			}},
			Volumes: []corev1.Volume{
				{Name: ConfVolumeName, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: prefix + "-conf-map"},
					Items:                []corev1.KeyToPath{{Key: PropertiesFileName, Path: PropertiesFileName}},
				}}},
				{Name: "pod-template-volume", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: prefix + "-podspec-conf-map"},
					Items:                []corev1.KeyToPath{{Key: "podspec-configmap-key", Path: "pod-spec-template.yml"}},
				}}},
			},
		},
	}}
}

func (b *driverBuilder) annotate(kv ...string) *driverBuilder {
	if b.pod.Annotations == nil {
		b.pod.Annotations = map[string]string{}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		b.pod.Annotations[kv[i]] = kv[i+1]
	}
	return b
}

func (b *driverBuilder) memoryLimit(q string) *driverBuilder {
	c := &b.pod.Spec.Containers[0]
	c.Resources.Limits[corev1.ResourceMemory] = resource.MustParse(q)
	c.Resources.Requests[corev1.ResourceMemory] = resource.MustParse(q)
	return b
}

func (b *driverBuilder) build() *corev1.Pod { return b.pod.DeepCopy() }

// confMaps returns the conf and template ConfigMaps of driver; props are extra
// spark.properties lines beside the template file setting.
func confMaps(driver *corev1.Pod, template string, props map[string]string) []*corev1.ConfigMap {
	prefix := strings.TrimSuffix(driver.Name, "-driver")
	all := map[string]string{
		"spark.app.id":                              testAppID,
		"spark.app.name":                            "spark-pi",
		"spark.master":                              "k8s://https://kubernetes.default.svc",
		"spark.submit.deployMode":                   "cluster",
		"spark.kubernetes.container.image":          testImage,
		"spark.kubernetes.executor.podTemplateFile": testTemplatePath,
		"spark.kubernetes.executor.podNamePrefix":   prefix,
		"spark.kubernetes.driver.pod.name":          driver.Name,
	}
	for k, v := range props {
		all[k] = v
	}
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var text strings.Builder
	text.WriteString("#Java properties, written by the renderer\n")
	for _, k := range keys {
		fmt.Fprintf(&text, "%s=%s\n", k, all[k])
	}
	return []*corev1.ConfigMap{
		{ObjectMeta: metav1.ObjectMeta{Name: prefix + "-conf-map", Namespace: driver.Namespace}, Data: map[string]string{PropertiesFileName: text.String()}},
		{ObjectMeta: metav1.ObjectMeta{Name: prefix + "-podspec-conf-map", Namespace: driver.Namespace}, Data: map[string]string{"podspec-configmap-key": template}},
	}
}

// testTemplate is an executor template as the renderer writes it: Spark's container with
// env, plus a sidecar, a label and a node selector.
const testTemplate = `apiVersion: v1
kind: Pod
metadata:
  labels:
    team: data
    spark-role: should-be-overridden
spec:
  nodeSelector:
    type: kwok # kwok nodes carry it; the e2e tests schedule these
  containers:
  - name: spark-kubernetes-executor
    image: apache/spark:template
    env:
    - name: SPARK_DRIVER_URL
      value: spark://CoarseGrainedScheduler@spark-pi-driver-svc.default.svc:7078
    - name: SPARK_EXECUTOR_ID
      value: placeholder
  - name: log-shipper
    image: busybox
`
