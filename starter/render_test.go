package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kindling-dev/kindling/k8s/job/jobtest"
)

func runRender(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRenderCmd(&temporalOptions{})
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestRenderPrintsObjectsAndIsStable(t *testing.T) {
	f := filepath.Join(jobtest.Examples(t), "spark-pi.yaml")
	a, err := runRender(t, "-f", f)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := runRender(t, "-f", f)
	if a != b {
		t.Error("two renders of the same file differ")
	}
	for _, kind := range []string{"kind: ConfigMap", "kind: Pod", "kind: Service"} {
		if !strings.Contains(a, kind) {
			t.Errorf("output lacks %q", kind)
		}
	}
	c, _ := runRender(t, "-f", f, "--attempt", "2")
	if c == a {
		t.Error("attempt 2 renders the same names as attempt 1")
	}
}

func TestRenderListsEveryProblem(t *testing.T) {
	bad := writeManifest(t, `apiVersion: sparkoperator.k8s.io/v1beta2
kind: SparkApplication
metadata: {name: Bad_Name}
spec:
  type: Scala
  mode: client
  image: spark:4
  mainClass: x.Y
  mainApplicationFile: /tmp/app.jar
  driver: {coreRequest: "2", coreLimit: "1", memory: 1Gi}
`)
	_, err := runRender(t, "-f", bad)
	if err == nil {
		t.Fatal("an invalid manifest rendered")
	}
	for _, want := range []string{"metadata.name", "spec.mode", "spec.mainApplicationFile", "spec.driver.coreLimit", "spec.driver.memory"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s:\n%v", want, err)
		}
	}
}

// A typo is one more problem, listed with the others, before anything is submitted.
func TestSubmitListsATypoWithTheOtherProblems(t *testing.T) {
	bad := writeManifest(t, `apiVersion: sparkoperator.k8s.io/v1beta2
kind: SparkApplication
metadata: {name: pi}
spec:
  type: Scala
  mode: client
  image: spark:4
  mainClass: x.Y
  mainApplicationFile: /tmp/app.jar
  restartPolicy: {type: Sometimes}
  driver: {cores: 1, memroy: 2g}
`)
	cmd := newSubmitCmd(&temporalOptions{address: "127.0.0.1:1"}) // nothing must be dialled
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs([]string{"-f", bad})
	err := cmd.Execute()
	if err == nil {
		t.Fatal("a manifest with a typo and three mistakes was submitted")
	}
	for _, want := range []string{"(4 problems)", "spec.driver.memroy: unknown field", "spec.mode", "spec.mainApplicationFile", "spec.restartPolicy.type"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
}

// What Spark ignores is said, not refused.
func TestRenderWarnsOfWhatSparkIgnores(t *testing.T) {
	f := writeManifest(t, `apiVersion: sparkoperator.k8s.io/v1beta2
kind: SparkApplication
metadata: {name: pi}
spec:
  type: Scala
  image: spark:4
  mainClass: x.Y
  mainApplicationFile: local:///app.jar
  sparkConf: {spark.driver.host: my-laptop}
`)
	out, err := runRender(t, "-f", f)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "warning: spec.sparkConf[spark.driver.host] is ignored") {
		t.Errorf("no warning in:\n%.300s", out)
	}
}

// writeManifest writes a manifest to a file of the test's own and returns its path.
func writeManifest(t *testing.T, text string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "job.yaml")
	if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}
