package render

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kindling-dev/kindling/k8s/job/jobtest"

	corev1 "k8s.io/api/core/v1"

	"github.com/kindling-dev/kindling/k8s/job"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.yaml")

func minimalSpec() *job.JobSpec { return jobtest.Minimal() }

func mustRender(t *testing.T, spec *job.JobSpec) *Rendered {
	t.Helper()
	r, err := Attempt(spec, Options{WorkflowID: "wf-test", Attempt: 1})
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
		t.Fatalf("%v (go test ./k8s/render -update writes it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("the render differs from %s (-golden +render):\n%s\nIf the change is meant, go test ./k8s/render -update rewrites it.", path, diff)
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
