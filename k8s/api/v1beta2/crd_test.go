package v1beta2_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"sigs.k8s.io/yaml"

	"github.com/kindling-dev/kindling/k8s/api/v1beta2"
)

// crdDir is where dev/tools/controller-gen/generate.sh writes the CRDs.
const crdDir = "../../../deploy/crds"

var crdFiles = map[string]string{
	"SparkApplication":          "sparkoperator.k8s.io_sparkapplications.yaml",
	"ScheduledSparkApplication": "sparkoperator.k8s.io_scheduledsparkapplications.yaml",
}

// readCRD reads a generated CRD as generic YAML.
func readCRD(t *testing.T, kind string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(crdDir, crdFiles[kind]))
	require.NoError(t, err, "run dev/tools/controller-gen/generate.sh")
	var crd map[string]any
	require.NoError(t, yaml.Unmarshal(data, &crd))
	return crd
}

// servedSchema is the openAPIV3Schema of the CRD's v1beta2 version.
func servedSchema(t *testing.T, crd map[string]any) map[string]any {
	t.Helper()
	versions, _ := dig(crd, "spec", "versions").([]any)
	for _, v := range versions {
		if dig(v, "name") == v1beta2.GroupVersion.Version {
			s, ok := dig(v, "schema", "openAPIV3Schema").(map[string]any)
			require.True(t, ok, "no openAPIV3Schema")
			return s
		}
	}
	t.Fatalf("no version %s in the CRD", v1beta2.GroupVersion.Version)
	return nil
}

// The API server prunes what a structural schema does not declare, silently: every field an
// operator example uses must be in our CRD, or a user's manifest would lose it.
func TestCRDsKeepEveryFieldOfTheExamples(t *testing.T) {
	schemas := map[string]map[string]any{}
	for kind := range crdFiles {
		schemas[kind] = servedSchema(t, readCRD(t, kind))
	}
	for _, f := range operatorFixtures(t) {
		t.Run(f.name, func(t *testing.T) {
			assert.Empty(t, uncovered(f.tree, schemas[f.kind], ""), "fields the API server would prune or refuse")
		})
	}
}

// The walker must see a field the schema lacks and a value of the wrong type, and leave a
// schemaless pod template alone.
func TestCRDCoverageCatchesMissingFields(t *testing.T) {
	schema := servedSchema(t, readCRD(t, "SparkApplication"))
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(`apiVersion: sparkoperator.k8s.io/v1beta2
kind: SparkApplication
metadata: {name: pi, labels: {a: b}}
spec:
  sparkConf: {"spark.a": "b"}
  driver:
    cores: "one"
    notAField: 1
    template: {spec: {securityContext: {capabilities: {drop: [ALL]}}}}
    env: [{name: A, value: b, notAField: 2}]
  executor: {instances: 2, memory: 1g}
`), &doc))
	assert.Equal(t, []string{
		"spec.driver.cores: string where the schema wants integer",
		"spec.driver.env[0].notAField: not in the schema",
		"spec.driver.notAField: not in the schema",
	}, uncovered(doc, schema, ""))
}

// The CRDs carry the operator's names, columns, subresource and the approval annotation the
// API server requires for a *.k8s.io group.
func TestCRDsHaveTheOperatorsNamesAndColumns(t *testing.T) {
	for kind, want := range map[string]struct {
		plural, short string
		columns       []string
	}{
		"SparkApplication":          {"sparkapplications", "sparkapp", []string{"Suspend=.spec.suspend", "Status=.status.applicationState.state", "Attempts=.status.executionAttempts", "Start=.status.lastSubmissionAttemptTime", "Finish=.status.terminationTime", "Age=.metadata.creationTimestamp"}},
		"ScheduledSparkApplication": {"scheduledsparkapplications", "scheduledsparkapp", []string{"Schedule=.spec.schedule", "TimeZone=.spec.timeZone", "Suspend=.spec.suspend", "Last Run=.status.lastRun", "Last Run Name=.status.lastRunName", "Age=.metadata.creationTimestamp"}},
	} {
		crd := readCRD(t, kind)
		assert.Equal(t, want.plural+"."+v1beta2.GroupVersion.Group, dig(crd, "metadata", "name"), kind)
		assert.Equal(t, "https://github.com/kubeflow/spark-operator/pull/1298", dig(crd, "metadata", "annotations", "api-approved.kubernetes.io"), kind)
		assert.Equal(t, v1beta2.GroupVersion.Group, dig(crd, "spec", "group"), kind)
		assert.Equal(t, "Namespaced", dig(crd, "spec", "scope"), kind)
		assert.Equal(t, kind, dig(crd, "spec", "names", "kind"))
		assert.Equal(t, kind+"List", dig(crd, "spec", "names", "listKind"))
		assert.Equal(t, []any{want.short}, dig(crd, "spec", "names", "shortNames"), kind)
		versions, _ := dig(crd, "spec", "versions").([]any)
		require.Len(t, versions, 1, kind)
		assert.Equal(t, map[string]any{}, dig(versions[0], "subresources", "status"), kind)
		var columns []string
		cols, _ := dig(versions[0], "additionalPrinterColumns").([]any)
		for _, c := range cols {
			columns = append(columns, fmt.Sprint(dig(c, "name"), "=", dig(c, "jsonPath")))
		}
		assert.Equal(t, want.columns, columns, kind)
	}
}

// `kubectl apply` (client-side) keeps the whole object as JSON in the annotation
// kubectl.kubernetes.io/last-applied-configuration, and the API server refuses annotations
// over 256 KiB: the operator's CRDs (about 450 KB of JSON) fail so (kubeflow/spark-operator
// #2151). Ours must stay under it.
func TestCRDsFitClientSideApply(t *testing.T) {
	for kind := range crdFiles {
		crd := readCRD(t, kind)
		js, err := json.Marshal(crd)
		require.NoError(t, err)
		annotations := map[string]string{"kubectl.kubernetes.io/last-applied-configuration": string(js)}
		for k, v := range dig(crd, "metadata", "annotations").(map[string]any) {
			annotations[k] = fmt.Sprint(v)
		}
		assert.NoError(t, apivalidation.ValidateAnnotationsSize(annotations), "%s: %d bytes of JSON", kind, len(js))
	}
}

// uncovered lists the paths of v (generic JSON) that schema s would not keep as they are: a
// field s does not declare is pruned, a value of another type is refused. A schema with
// x-kubernetes-preserve-unknown-fields keeps any field it does not declare; additionalProperties
// declares every key, whose value it then describes.
func uncovered(v any, s map[string]any, path string) []string {
	if v == nil {
		if s["nullable"] == true {
			return nil
		}
		return []string{path + ": null where the schema is not nullable"}
	}
	if want, ok := s["type"].(string); ok && !typeFits(v, want, s["x-kubernetes-int-or-string"] == true) {
		return []string{fmt.Sprintf("%s: %s where the schema wants %s", path, jsonType(v), want)}
	}
	var out []string
	switch v := v.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		for _, k := range slices.Sorted(maps.Keys(v)) {
			p := join(path, k)
			if path == "" && k == "metadata" {
				continue // the object's own metadata is the API server's ObjectMeta, not the schema's
			}
			if ps, ok := props[k].(map[string]any); ok {
				out = append(out, uncovered(v[k], ps, p)...)
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case map[string]any:
				out = append(out, uncovered(v[k], ap, p)...)
				continue
			case bool:
				if ap {
					continue
				}
			}
			if s["x-kubernetes-preserve-unknown-fields"] != true {
				out = append(out, p+": not in the schema")
			}
		}
	case []any:
		items, _ := s["items"].(map[string]any)
		for i, e := range v {
			p := path + "[" + strconv.Itoa(i) + "]"
			if items == nil {
				if s["x-kubernetes-preserve-unknown-fields"] != true {
					out = append(out, p+": the schema has no items")
				}
				continue
			}
			out = append(out, uncovered(e, items, p)...)
		}
	}
	return out
}

// typeFits tells whether a JSON value has an OpenAPI type (int-or-string for quantities and
// ports).
func typeFits(v any, want string, intOrString bool) bool {
	n, isNumber := v.(float64)
	isInt := isNumber && n == math.Trunc(n)
	if intOrString {
		_, isString := v.(string)
		return isString || isInt
	}
	switch want {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "integer":
		return isInt
	case "number":
		return isNumber
	}
	return false
}

// jsonType names a value's JSON type, for messages.
func jsonType(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case float64:
		return "number"
	}
	return fmt.Sprintf("%T", v)
}

// dig walks generic YAML by keys; nil where a key is missing.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}
