package emulator

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
)

func objects(cms []*corev1.ConfigMap) []runtime.Object {
	out := make([]runtime.Object, 0, len(cms))
	for _, cm := range cms {
		out = append(out, cm)
	}
	return out
}

func TestReadDriverConfSparkLayout(t *testing.T) {
	driver := newDriver("ns", "spark-pi-driver").build()
	client := fake.NewClientset(objects(confMaps(driver, testTemplate, map[string]string{"spark.executor.instances": "3"}))...)

	conf, err := ReadDriverConf(context.Background(), client, driver)
	if err != nil {
		t.Fatalf("ReadDriverConf: %v", err)
	}
	if got := conf.Properties["spark.executor.instances"]; got != "3" {
		t.Errorf("spark.executor.instances = %q, want 3", got)
	}
	if got := conf.ExecutorTemplate.Spec.NodeSelector["type"]; got != "kwok" {
		t.Errorf("template nodeSelector type = %q, want kwok (template not read?)", got)
	}
	if n := len(conf.ExecutorTemplate.Spec.Containers); n != 2 {
		t.Errorf("template has %d containers, want 2", n)
	}
}

func TestReadDriverConfTemplateBesideProperties(t *testing.T) {
	// No template volume: the template is a key of the conf ConfigMap itself.
	b := newDriver("ns", "spark-pi-driver")
	b.pod.Spec.Volumes = b.pod.Spec.Volumes[:1]
	b.pod.Spec.Volumes[0].ConfigMap.Items = nil
	b.pod.Spec.Containers[0].VolumeMounts = b.pod.Spec.Containers[0].VolumeMounts[:1]
	driver := b.build()
	cms := confMaps(driver, "", map[string]string{"spark.kubernetes.executor.podTemplateFile": "/somewhere/else/exec.yaml"})
	cms[0].Data["exec.yaml"] = testTemplate
	client := fake.NewClientset(cms[0])

	conf, err := ReadDriverConf(context.Background(), client, driver)
	if err != nil {
		t.Fatalf("ReadDriverConf: %v", err)
	}
	if got := conf.ExecutorTemplate.Labels["team"]; got != "data" {
		t.Errorf("template label team = %q, want data", got)
	}
}

func TestReadDriverConfSubPathMount(t *testing.T) {
	b := newDriver("ns", "spark-pi-driver")
	b.pod.Spec.Containers[0].VolumeMounts[1] = corev1.VolumeMount{Name: "pod-template-volume", MountPath: testTemplatePath, SubPath: "pod-spec-template.yml"}
	driver := b.build()
	client := fake.NewClientset(objects(confMaps(driver, testTemplate, nil))...)

	conf, err := ReadDriverConf(context.Background(), client, driver)
	if err != nil {
		t.Fatalf("ReadDriverConf: %v", err)
	}
	if got := conf.ExecutorTemplate.Spec.NodeSelector["type"]; got != "kwok" {
		t.Errorf("template nodeSelector type = %q, want kwok", got)
	}
}

func TestReadDriverConfNoTemplateIsEmptyPod(t *testing.T) {
	driver := newDriver("ns", "spark-pi-driver").build()
	cms := confMaps(driver, "", nil)
	cms[0].Data[PropertiesFileName] = "spark.app.id=" + testAppID + "\n"
	client := fake.NewClientset(cms[0])

	conf, err := ReadDriverConf(context.Background(), client, driver)
	if err != nil {
		t.Fatalf("ReadDriverConf: %v", err)
	}
	if diff := cmp.Diff(&corev1.Pod{}, conf.ExecutorTemplate); diff != "" {
		t.Errorf("template (-want +got):\n%s", diff)
	}
}

func TestReadDriverConfEmptyTemplateIsEmptyPod(t *testing.T) {
	driver := newDriver("ns", "spark-pi-driver").build()
	client := fake.NewClientset(objects(confMaps(driver, "", nil))...)

	conf, err := ReadDriverConf(context.Background(), client, driver)
	if err != nil {
		t.Fatalf("ReadDriverConf: %v", err)
	}
	if diff := cmp.Diff(&corev1.Pod{}, conf.ExecutorTemplate); diff != "" {
		t.Errorf("template (-want +got):\n%s", diff)
	}
}

func TestReadDriverConfErrorsSayWhat(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(*corev1.Pod, []*corev1.ConfigMap) []*corev1.ConfigMap
		wantText []string
	}{
		{"conf ConfigMap missing", func(_ *corev1.Pod, cms []*corev1.ConfigMap) []*corev1.ConfigMap { return cms[1:] },
			[]string{"spark.properties", "spark-pi-conf-map"}},
		{"template ConfigMap missing", func(_ *corev1.Pod, cms []*corev1.ConfigMap) []*corev1.ConfigMap { return cms[:1] },
			[]string{"executor pod template", testTemplatePath, "spark-pi-podspec-conf-map"}},
		{"template path not mounted", func(_ *corev1.Pod, cms []*corev1.ConfigMap) []*corev1.ConfigMap {
			cms[0].Data[PropertiesFileName] += "spark.kubernetes.executor.podTemplateFile=/nowhere/t.yml\n"
			return cms
		}, []string{"/nowhere/t.yml", "no configMap volume mounted at /nowhere"}},
		{"template not YAML of a pod", func(_ *corev1.Pod, cms []*corev1.ConfigMap) []*corev1.ConfigMap {
			cms[1].Data["podspec-configmap-key"] = "spec: [1, 2"
			return cms
		}, []string{"parse executor pod template", "spark-pi-podspec-conf-map"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			driver := newDriver("ns", "spark-pi-driver").build()
			cms := tt.setup(driver, confMaps(driver, testTemplate, nil))
			_, err := ReadDriverConf(context.Background(), fake.NewClientset(objects(cms)...), driver)
			if err == nil {
				t.Fatal("ReadDriverConf succeeded, want an error")
			}
			for _, s := range tt.wantText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
}
