// Package jobtest gives tests the jobs they start from: a minimal valid spec, and the Spark
// operator's published examples, read in place from ../shared beside the checkout.
package jobtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kindling-dev/kindling/k8s/job"
)

// Minimal is the smallest valid job: SparkPi from the Spark image.
func Minimal() *job.JobSpec {
	return &job.JobSpec{Name: "spark-pi", Namespace: "default", SparkApplicationSpec: job.SparkApplicationSpec{
		Type: job.TypeScala, Image: "apache/spark:4.0.4", SparkVersion: "4.0.4",
		MainClass: "org.apache.spark.examples.SparkPi", MainApplicationFile: "local:///opt/spark/examples/jars/spark-examples.jar",
	}}
}

// ExamplesCount is how many examples the operator publishes in the folder Examples reads.
const ExamplesCount = 14

// Examples is the folder of the operator's examples: ../shared/fixtures/kubeflow-examples
// beside the module's root. A checkout without it (a user's fresh clone) skips the test,
// saying where the examples were looked for.
func Examples(t testing.TB) string {
	t.Helper()
	dir, ok := ExamplesDir()
	if !ok {
		t.Skipf("the Spark operator's examples are not at %s (they come with the team's shared folder beside the checkout); skipping", dir)
	}
	return dir
}

// ExamplesDir is where the operator's examples are looked for, and whether any are there.
func ExamplesDir() (string, bool) {
	root, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(root)
		if parent == root {
			break
		}
		root = parent
	}
	dir := filepath.Join(filepath.Dir(root), "shared", "fixtures", "kubeflow-examples")
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	return dir, len(files) > 0
}

// ExampleFiles are the paths of every example, sorted.
func ExampleFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(Examples(t), "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != ExamplesCount {
		t.Fatalf("want the %d operator examples in %s, found %d", ExamplesCount, filepath.Dir(files[0]), len(files))
	}
	return files
}

// ReadExample reads one example by file name (spark-pi.yaml), or any manifest by path. The
// published prometheus example holds placeholders its reader is to fill in.
func ReadExample(t testing.TB, name string) *job.JobSpec {
	t.Helper()
	path := name
	if filepath.Base(name) == name {
		path = filepath.Join(Examples(t), name)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data = []byte(strings.NewReplacer("{IMAGE_REGISTRY}", "registry.example.com", "{IMAGE_REPOSITORY}", "spark").Replace(string(data)))
	spec, err := job.Read(data)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return spec
}
