package v1beta2_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/kindling-dev/kindling/k8s/api/v1beta2"
	"github.com/kindling-dev/kindling/k8s/job/jobtest"
)

// fixture is one SparkApplication or ScheduledSparkApplication document of an example file.
type fixture struct {
	name string // file and document index, for messages
	file string // base name
	kind string
	yaml []byte
	tree map[string]any // the document as generic JSON
}

// operatorFixtures returns every sparkoperator.k8s.io/v1beta2 object of the operator's
// published examples (../shared/fixtures/kubeflow-examples beside the checkout); jobtest skips
// the test, naming the path, when they are not on this machine.
func operatorFixtures(t *testing.T) []fixture {
	t.Helper()
	var out []fixture
	for _, path := range jobtest.ExampleFiles(t) {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		// The prometheus example holds placeholders its reader is to fill in (as jobtest.ReadExample does).
		data = []byte(strings.NewReplacer("{IMAGE_REGISTRY}", "registry.example.com", "{IMAGE_REPOSITORY}", "spark").Replace(string(data)))
		r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for i := 0; ; i++ {
			doc, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err, path)
			var tree map[string]any
			require.NoError(t, yaml.Unmarshal(doc, &tree), "%s document %d", path, i)
			kind, _ := tree["kind"].(string)
			if tree["apiVersion"] != v1beta2.GroupVersion.String() || (kind != "SparkApplication" && kind != "ScheduledSparkApplication") {
				continue
			}
			file := filepath.Base(path)
			out = append(out, fixture{name: fmt.Sprintf("%s#%d", file, i), file: file, kind: kind, yaml: doc, tree: tree})
		}
	}
	require.Len(t, out, jobtest.ExamplesCount, "one SparkApplication or ScheduledSparkApplication per example")
	return out
}

// knownLosses are fields of the examples the Go types drop, by file. The operator's pod-template
// example puts container fields (capabilities, allowPrivilegeEscalation) in the pod's
// securityContext, which corev1.PodSecurityContext does not have. The CRD keeps them (the
// template is schemaless, as in the operator's CRD); the typed object drops them, as the
// operator's own Go type (*corev1.PodTemplateSpec) and job.Read do, and a pod would.
var knownLosses = map[string][]string{
	"spark-pi-pod-template.yaml": {
		"spec.driver.template.spec.securityContext.allowPrivilegeEscalation",
		"spec.driver.template.spec.securityContext.capabilities",
		"spec.executor.template.spec.securityContext.allowPrivilegeEscalation",
		"spec.executor.template.spec.securityContext.capabilities",
	},
}

func TestExamplesRoundTripThroughTheTypes(t *testing.T) {
	scheme := runtime.NewScheme()
	require.NoError(t, v1beta2.AddToScheme(scheme))
	for _, f := range operatorFixtures(t) {
		t.Run(f.name, func(t *testing.T) {
			back := roundTrip(t, scheme, f.kind, f.yaml)
			lost, added := compareTrees(f.tree, back, "")
			assert.Equal(t, knownLosses[f.file], lost, "fields the types lose (compare knownLosses)")
			assert.Empty(t, added, "fields the types add with a value")
		})
	}
}

// The comparison must see a lost field, a changed value and an added one.
func TestRoundTripComparisonCatchesLossAndChange(t *testing.T) {
	scheme := runtime.NewScheme()
	require.NoError(t, v1beta2.AddToScheme(scheme))
	doc := []byte(`apiVersion: sparkoperator.k8s.io/v1beta2
kind: SparkApplication
metadata: {name: pi}
spec:
  driver: {cores: 1, notAField: x}
  executor: {instances: 2}
  sparkConf: {"spark.a": "b"}
`)
	var tree map[string]any
	require.NoError(t, yaml.Unmarshal(doc, &tree))
	back := roundTrip(t, scheme, "SparkApplication", doc)
	lost, added := compareTrees(tree, back, "")
	assert.Equal(t, []string{"spec.driver.notAField"}, lost)
	assert.Empty(t, added)

	back["spec"].(map[string]any)["executor"].(map[string]any)["instances"] = 3.0
	back["spec"].(map[string]any)["mode"] = "cluster"
	lost, added = compareTrees(tree, back, "")
	assert.Equal(t, []string{"spec.driver.notAField", "spec.executor.instances"}, lost)
	assert.Equal(t, []string{"spec.mode"}, added)
}

// roundTrip decodes a document into its typed object and gives that object's JSON back as a
// generic tree.
func roundTrip(t *testing.T, scheme *runtime.Scheme, kind string, doc []byte) map[string]any {
	t.Helper()
	obj, err := scheme.New(v1beta2.GroupVersion.WithKind(kind))
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(doc, obj))
	js, err := json.Marshal(obj)
	require.NoError(t, err)
	var back map[string]any
	require.NoError(t, json.Unmarshal(js, &back))
	return back
}

// compareTrees gives the paths of in that out does not keep with the same value (lost), and
// the paths out adds with a value that is not empty (added). An empty value (null, "", 0,
// false, {} or []) is what Go writes for a field the input left out: metadata.creationTimestamp,
// an empty status, spec.deps.
func compareTrees(in, out any, path string) (lost, added []string) {
	switch in := in.(type) {
	case map[string]any:
		o, ok := out.(map[string]any)
		if !ok {
			return []string{path}, nil
		}
		for _, k := range slices.Sorted(maps.Keys(in)) {
			ov, ok := o[k]
			if !ok {
				lost = append(lost, join(path, k))
				continue
			}
			l, a := compareTrees(in[k], ov, join(path, k))
			lost, added = append(lost, l...), append(added, a...)
		}
		for _, k := range slices.Sorted(maps.Keys(o)) {
			if _, ok := in[k]; !ok && !isEmpty(o[k]) {
				added = append(added, join(path, k))
			}
		}
		return lost, added
	case []any:
		o, ok := out.([]any)
		if !ok || len(o) != len(in) {
			return []string{path}, nil
		}
		for i := range in {
			l, a := compareTrees(in[i], o[i], path+"["+strconv.Itoa(i)+"]")
			lost, added = append(lost, l...), append(added, a...)
		}
		return lost, added
	}
	if in == out || sameQuantity(in, out) {
		return nil, nil
	}
	return []string{path}, nil
}

// sameQuantity: a quantity written as a number (cpu: 1) comes back as its canonical string.
func sameQuantity(in, out any) bool {
	n, ok := in.(float64)
	s, ok2 := out.(string)
	if !ok || !ok2 {
		return false
	}
	q, err := resource.ParseQuantity(s)
	return err == nil && q.Cmp(resource.MustParse(strconv.FormatFloat(n, 'f', -1, 64))) == 0
}

func isEmpty(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return v == ""
	case float64:
		return v == 0
	case bool:
		return !v
	case []any:
		return len(v) == 0
	case map[string]any:
		for _, e := range v {
			if !isEmpty(e) {
				return false
			}
		}
		return true
	}
	return false
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
