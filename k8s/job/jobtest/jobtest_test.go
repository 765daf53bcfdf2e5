package jobtest

import (
	"os"
	"path/filepath"
	"testing"
)

// A user's clone has no ../shared beside it: the examples are reported missing, with the
// path they were looked for at, so the tests that need them skip instead of failing.
func TestExamplesDirBesideTheModule(t *testing.T) {
	root := t.TempDir()
	mod := filepath.Join(root, "kindling")
	if err := os.MkdirAll(filepath.Join(mod, "k8s", "render"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Join(mod, "k8s", "render"))
	want := filepath.Join(root, "shared", "fixtures", "kubeflow-examples")
	if dir, ok := ExamplesDir(); ok || dir != want {
		t.Fatalf("without shared: ExamplesDir() = %q, %v; want %q, false", dir, ok, want)
	}
	if err := os.MkdirAll(want, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(want, "spark-pi.yaml"), []byte("kind: SparkApplication\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if dir, ok := ExamplesDir(); !ok || dir != want {
		t.Fatalf("with shared: ExamplesDir() = %q, %v; want %q, true", dir, ok, want)
	}
}
