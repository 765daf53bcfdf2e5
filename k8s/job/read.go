package job

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

const (
	operatorAPIVersion = "sparkoperator.k8s.io/v1beta2"
	kindSparkApp       = "SparkApplication"
	kindScheduledSpark = "ScheduledSparkApplication"
)

type objectMeta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	// Present in manifests read back from a cluster; Kindling has no use for them.
	GenerateName      string          `json:"generateName,omitempty"`
	UID               string          `json:"uid,omitempty"`
	ResourceVersion   string          `json:"resourceVersion,omitempty"`
	Generation        int64           `json:"generation,omitempty"`
	CreationTimestamp json.RawMessage `json:"creationTimestamp,omitempty"`
	ManagedFields     json.RawMessage `json:"managedFields,omitempty"`
	Finalizers        []string        `json:"finalizers,omitempty"`
	OwnerReferences   json.RawMessage `json:"ownerReferences,omitempty"`
}

type sparkApplication struct {
	APIVersion string               `json:"apiVersion"`
	Kind       string               `json:"kind"`
	Metadata   objectMeta           `json:"metadata"`
	Spec       SparkApplicationSpec `json:"spec"`
	Status     json.RawMessage      `json:"status,omitempty"`
}

// ScheduledSparkApplicationSpec is the operator's schedule around a SparkApplication spec.
// Read takes its template; the schedule fields belong to `kindling schedule`.
type ScheduledSparkApplicationSpec struct {
	Schedule                  string               `json:"schedule"`
	TimeZone                  string               `json:"timeZone,omitempty"`
	Template                  SparkApplicationSpec `json:"template"`
	Suspend                   *bool                `json:"suspend,omitempty"`
	ConcurrencyPolicy         string               `json:"concurrencyPolicy,omitempty"`
	SuccessfulRunHistoryLimit *int32               `json:"successfulRunHistoryLimit,omitempty"`
	FailedRunHistoryLimit     *int32               `json:"failedRunHistoryLimit,omitempty"`
}

type scheduledSparkApplication struct {
	APIVersion string                        `json:"apiVersion"`
	Kind       string                        `json:"kind"`
	Metadata   objectMeta                    `json:"metadata"`
	Spec       ScheduledSparkApplicationSpec `json:"spec"`
	Status     json.RawMessage               `json:"status,omitempty"`
}

type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

// Read reads a job from YAML or JSON: a SparkApplication or ScheduledSparkApplication
// manifest, a multi-document file holding one of them, or a bare spec with name and
// namespace beside it. Unknown fields are an error that names them.
func Read(data []byte) (*JobSpec, error) {
	spec, unknown, err := ReadLenient(data)
	if err != nil {
		return nil, err
	}
	if len(unknown) > 0 {
		return nil, Errors(unknown)
	}
	return spec, nil
}

// ReadLenient reads like Read, but gives every field it does not know as a problem beside the
// spec instead of failing: a caller lists them with the spec's other problems, so a typo and
// three other mistakes come back as one error of four.
func ReadLenient(data []byte) (*JobSpec, field.ErrorList, error) {
	docs, err := splitDocuments(data)
	if err != nil {
		return nil, nil, err
	}
	if len(docs) == 0 {
		return nil, nil, errors.New("read job: the input holds no document")
	}
	var picked []byte
	var pickedKind string
	var kinds []string
	for _, doc := range docs {
		var tm typeMeta
		if err := json.Unmarshal(doc, &tm); err != nil {
			return nil, nil, fmt.Errorf("read job: %w", err)
		}
		kinds = append(kinds, tm.Kind)
		switch {
		case tm.Kind == kindSparkApp || tm.Kind == kindScheduledSpark:
			if pickedKind == kindSparkApp || pickedKind == kindScheduledSpark {
				return nil, nil, fmt.Errorf("read job: the input holds more than one %s or %s", kindSparkApp, kindScheduledSpark)
			}
			picked, pickedKind = doc, tm.Kind
		case tm.Kind == "" && tm.APIVersion == "" && len(docs) == 1:
			picked = doc
		}
	}
	if picked == nil {
		return nil, nil, fmt.Errorf("read job: no %s in the input (kinds found: %s)", kindSparkApp, strings.Join(kinds, ", "))
	}
	picked, templates, err := takeTemplates(picked, pickedKind)
	if err != nil {
		return nil, nil, err
	}
	spec, unknown, err := decodePicked(picked, pickedKind)
	if err != nil {
		return nil, nil, err
	}
	if err := templates.apply(&spec.SparkApplicationSpec); err != nil {
		return nil, nil, err
	}
	return spec, unknown, nil
}

func decodePicked(picked []byte, pickedKind string) (*JobSpec, field.ErrorList, error) {
	var doc any
	if err := json.Unmarshal(picked, &doc); err != nil {
		return nil, nil, fmt.Errorf("read job: %w", err)
	}
	switch pickedKind {
	case kindSparkApp:
		var app sparkApplication
		if err := decode(picked, &app); err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", kindSparkApp, err)
		}
		if app.APIVersion != operatorAPIVersion {
			return nil, nil, fmt.Errorf("read %s: apiVersion %q is not %s", kindSparkApp, app.APIVersion, operatorAPIVersion)
		}
		return &JobSpec{Name: app.Metadata.Name, Namespace: app.Metadata.Namespace, Labels: app.Metadata.Labels, SparkApplicationSpec: app.Spec},
			unknownFields(doc, reflect.TypeFor[sparkApplication](), nil), nil
	case kindScheduledSpark:
		var app scheduledSparkApplication
		if err := decode(picked, &app); err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", kindScheduledSpark, err)
		}
		if app.APIVersion != operatorAPIVersion {
			return nil, nil, fmt.Errorf("read %s: apiVersion %q is not %s", kindScheduledSpark, app.APIVersion, operatorAPIVersion)
		}
		return &JobSpec{Name: app.Metadata.Name, Namespace: app.Metadata.Namespace, Labels: app.Metadata.Labels, SparkApplicationSpec: app.Spec.Template},
			unknownFields(doc, reflect.TypeFor[scheduledSparkApplication](), nil), nil
	}
	var spec JobSpec
	if err := decode(picked, &spec); err != nil {
		return nil, nil, fmt.Errorf("read job spec: %w", err)
	}
	// A bare spec's fields sit at the top; they are spec.* in every problem's path.
	return &spec, unknownFields(doc, reflect.TypeFor[JobSpec](), SpecPath), nil
}

// splitDocuments returns each non-empty YAML or JSON document of data as JSON.
func splitDocuments(data []byte) ([][]byte, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read job: %w", err)
		}
		js, err := yaml.YAMLToJSONStrict(doc)
		if err != nil {
			return nil, fmt.Errorf("read job: document %d: %w", len(docs)+1, err)
		}
		js = bytes.TrimSpace(js)
		if len(js) == 0 || bytes.Equal(js, []byte("null")) {
			continue
		}
		if js[0] != '{' {
			return nil, fmt.Errorf("read job: document %d is not an object", len(docs)+1)
		}
		docs = append(docs, js)
	}
}

// decode reads one document into a type; unknownFields reports what it did not know.
func decode(data []byte, into any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(into); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the document")
	}
	return nil
}

// podTemplates are spec.driver.template and spec.executor.template, taken out before strict
// decoding: the operator keeps them schemaless and Spark ignores fields a pod does not have,
// so a template that works there (the operator's own example puts container fields in the
// pod securityContext) must work here.
type podTemplates struct{ driver, executor json.RawMessage }

func takeTemplates(doc []byte, kind string) ([]byte, podTemplates, error) {
	var t podTemplates
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		return nil, t, fmt.Errorf("read job: %w", err)
	}
	spec := m
	switch kind {
	case kindSparkApp:
		spec, _ = m["spec"].(map[string]any)
	case kindScheduledSpark:
		outer, _ := m["spec"].(map[string]any)
		spec, _ = outer["template"].(map[string]any)
	}
	for _, role := range []string{"driver", "executor"} {
		pod, _ := spec[role].(map[string]any)
		tmpl, ok := pod["template"]
		if !ok {
			continue
		}
		raw, err := json.Marshal(tmpl)
		if err != nil {
			return nil, t, err
		}
		if role == "driver" {
			t.driver = raw
		} else {
			t.executor = raw
		}
		delete(pod, "template")
	}
	out, err := json.Marshal(m)
	return out, t, err
}

func (t podTemplates) apply(s *SparkApplicationSpec) error {
	for role, raw := range map[string]json.RawMessage{"driver": t.driver, "executor": t.executor} {
		if raw == nil {
			continue
		}
		var tmpl corev1.PodTemplateSpec
		if err := json.Unmarshal(raw, &tmpl); err != nil {
			return fmt.Errorf("read spec.%s.template: %w", role, err)
		}
		if role == "driver" {
			s.Driver.Template = &tmpl
		} else {
			s.Executor.Template = &tmpl
		}
	}
	return nil
}
