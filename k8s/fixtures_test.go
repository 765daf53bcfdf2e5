package k8s

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const fixtures = "../../shared/fixtures/kubeflow-examples"

// Every published operator example must render unchanged.
func TestKubeflowExamplesRender(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(fixtures, "*.yaml"))
	if err != nil || len(files) < 14 {
		t.Fatalf("want the 14 operator examples in %s, found %d (%v)", fixtures, len(files), err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			spec := readFixture(t, f)
			r, err := Render(spec, RenderOptions{WorkflowID: "wf-" + spec.Name, Attempt: 1})
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			out, err := MarshalYAML(r)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(out), "kind: Pod\n") || r.DriverPod.Name != r.Names.DriverPod {
				t.Errorf("no driver pod rendered:\n%s", out)
			}
		})
	}
}

// readFixture reads one operator example; the published prometheus example holds
// placeholders its reader is to fill in.
func readFixture(t *testing.T, path string) *JobSpec {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data = []byte(strings.NewReplacer("{IMAGE_REGISTRY}", "registry.example.com", "{IMAGE_REPOSITORY}", "spark").Replace(string(data)))
	spec, err := ReadJob(data)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return spec
}
