package k8s

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.yaml")

func minimalSpec() *JobSpec {
	return &JobSpec{Name: "spark-pi", Namespace: "default", SparkApplicationSpec: SparkApplicationSpec{
		Type: TypeScala, Image: "apache/spark:4.0.4", SparkVersion: "4.0.4",
		MainClass: "org.apache.spark.examples.SparkPi", MainApplicationFile: "local:///opt/spark/examples/jars/spark-examples.jar",
	}}
}

func mustRender(t *testing.T, spec *JobSpec) *Rendered {
	t.Helper()
	r, err := Render(spec, RenderOptions{WorkflowID: "wf-test", Attempt: 1})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func compareGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden.yaml")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./k8s -update)", err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs from the render; if the change is meant, run go test ./k8s -update and review the diff", path)
	}
}

func vols(names ...string) []corev1.Volume {
	var out []corev1.Volume
	for _, n := range names {
		out = append(out, corev1.Volume{Name: n, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
	}
	return out
}

func mounts(specs ...string) []corev1.VolumeMount {
	var out []corev1.VolumeMount
	for _, s := range specs {
		name, p, _ := strings.Cut(s, ":")
		out = append(out, corev1.VolumeMount{Name: name, MountPath: p})
	}
	return out
}
