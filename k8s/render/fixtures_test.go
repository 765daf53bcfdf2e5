package render

import (
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kindling-dev/kindling/k8s/job/jobtest"

	"github.com/kindling-dev/kindling/k8s/job"
)

// Every published operator example must render unchanged.
func TestKubeflowExamplesRender(t *testing.T) {
	for _, f := range jobtest.ExampleFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			spec := jobtest.ReadExample(t, f)
			r, err := Attempt(spec, Options{WorkflowID: "wf-" + spec.Name, Attempt: 1})
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

func FuzzReadAndRender(f *testing.F) {
	f.Add([]byte("apiVersion: sparkoperator.k8s.io/v1beta2\nkind: SparkApplication\nmetadata: {name: x}\nspec: {type: Scala}\n"))
	f.Add([]byte(`{"name":"a","driver":{"template":{"spec":{"containers":[{}]}}}}`))
	f.Add([]byte("---\n---\nkind: ScheduledSparkApplication\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := job.Read(data)
		if err != nil {
			return
		}
		r, err := Attempt(spec, Options{WorkflowID: "fuzz", Attempt: 1})
		if err != nil {
			return
		}
		for what, name := range map[string]string{"driver": r.Names.DriverPod, "service": r.Names.Service, "configmap": r.Names.ConfigMap} {
			if msgs := validation.IsDNS1123Label(name); len(msgs) > 0 {
				t.Errorf("%s name %q: %v", what, name, msgs)
			}
		}
	})
}
