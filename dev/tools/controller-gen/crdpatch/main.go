// Command crdpatch makes the pod templates of the CRDs controller-gen writes to deploy/crds
// schemaless, as the operator's CRDs have them.
//
// The operator marks SparkPodSpec.Template with +kubebuilder:validation:Schemaless,
// +kubebuilder:validation:Type:=object and +kubebuilder:pruning:PreserveUnknownFields: a
// template is passed to Spark as it is, and Spark ignores what a pod does not have (the
// operator's own spark-pi-pod-template example puts container fields in the pod's
// securityContext). Kindling's job.SparkPodSpec.Template carries no markers, so controller-gen
// gives it the full PodTemplateSpec schema, under which the API server would prune such
// fields and which makes each CRD some 140 KB larger. This command puts the operator's schema
// in its place. It changes nothing where the schema is already the operator's, so it is
// harmless once the markers are on the field; it fails when a path is missing.
//
//	crdpatch DIR   (run by generate.sh after controller-gen)
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"sigs.k8s.io/yaml"
)

// templates are the pod templates of each CRD, as property paths in its openAPIV3Schema.
var templates = map[string][]string{
	"sparkapplications.sparkoperator.k8s.io": {
		"spec.driver.template",
		"spec.executor.template",
	},
	"scheduledsparkapplications.sparkoperator.k8s.io": {
		"spec.template.driver.template",
		"spec.template.executor.template",
	},
}

// schemaless is the operator's schema of a pod template (descriptions aside).
var schemaless = map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: crdpatch DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "crdpatch:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	seen := map[string]bool{}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return err
	}
	for _, file := range files {
		name, err := patchFile(file)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		seen[name] = true
	}
	for name := range templates {
		if !seen[name] {
			return fmt.Errorf("no CRD %s in %s", name, dir)
		}
	}
	return nil
}

// patchFile patches one CRD file and returns the CRD's name. It writes the file as
// controller-gen does (genall.WriteYAML: "---", then sigs.k8s.io/yaml of the JSON decoded
// with UseNumber), so an unpatched file would come out byte for byte the same.
func patchFile(file string) (string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return "", err
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var crd map[string]any
	if err := dec.Decode(&crd); err != nil {
		return "", err
	}
	name, _ := lookup(crd, "metadata", "name").(string)
	paths, ok := templates[name]
	if !ok {
		return name, nil // not one of ours
	}
	versions, _ := lookup(crd, "spec", "versions").([]any)
	if len(versions) == 0 {
		return "", fmt.Errorf("%s has no versions", name)
	}
	changed := false
	for _, v := range versions {
		root, _ := lookup(v, "schema", "openAPIV3Schema").(map[string]any)
		for _, p := range paths {
			props := root
			parts := strings.Split(p, ".")
			for _, part := range parts[:len(parts)-1] {
				props, _ = lookup(props, "properties", part).(map[string]any)
			}
			last := parts[len(parts)-1]
			parent, _ := lookup(props, "properties").(map[string]any)
			if _, ok := parent[last]; !ok {
				return "", fmt.Errorf("%s: no property %s in the schema", name, p)
			}
			if !reflect.DeepEqual(parent[last], schemaless) {
				parent[last] = schemaless
				changed = true
			}
		}
	}
	if !changed {
		return name, nil
	}
	out, err := yaml.Marshal(crd)
	if err != nil {
		return "", err
	}
	return name, os.WriteFile(file, append([]byte("---\n"), out...), 0o644)
}

// lookup walks maps by key; it gives nil where a key is missing.
func lookup(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}
