package k8s

import (
	"encoding/json"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// Render turns a job into the objects of one attempt. It defaults and validates a copy of the
// spec first, so an invalid spec returns a *ValidationError and no objects. The same spec and
// options always give the same objects.
func Render(in *JobSpec, opts RenderOptions) (*Rendered, error) {
	spec, err := copySpec(in)
	if err != nil {
		return nil, err
	}
	Default(spec)
	if err := Validate(spec); err != nil {
		return nil, err
	}
	if opts.Attempt < 1 {
		opts.Attempt = 1
	}
	names := MakeNames(spec.Name, opts.WorkflowID, opts.Attempt)
	b := &build{spec: spec, names: names, opts: opts, conf: specConf(spec)}
	monitoringConf(spec, b.conf)
	b.batchSchedulerConf()
	b.executorConf()
	if b.driver, _, err = driverMemory(b.conf, b.nonJVM(), opts.DriverMemoryOverheadMiB); err != nil {
		return nil, fmt.Errorf("size driver memory: %w", err)
	}

	driver := startPod(spec.Driver.Template)
	for _, s := range driverSteps {
		if err := s.apply(b, driver); err != nil {
			return nil, fmt.Errorf("render driver pod %s: step %s: %w", names.DriverPod, s.name, err)
		}
	}
	// Executors size themselves from the conf the driver steps completed.
	if b.exec, err = executorMemory(b.conf, opts.ExecutorMemoryOverheadMiB); err != nil {
		return nil, fmt.Errorf("size executor memory: %w", err)
	}
	executor := startPod(spec.Executor.Template)
	for _, s := range executorTemplateSteps {
		if err := s.apply(b, executor); err != nil {
			return nil, fmt.Errorf("render executor pod template: step %s: %w", s.name, err)
		}
	}
	pg, err := b.podGroup()
	if err != nil {
		return nil, fmt.Errorf("render pod group: %w", err)
	}
	if pg != nil {
		b.extra = append([]*unstructured.Unstructured{pg}, b.extra...)
	}

	ours := b.kindlingLabels()
	template, err := marshalTemplate(executor)
	if err != nil {
		return nil, fmt.Errorf("render executor pod template: %w", err)
	}
	data := map[string]string{SparkPropertiesFile: renderProperties(b.conf), PodTemplateFile: string(template)}
	maps.Copy(data, monitoringFiles(spec))
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: names.ConfigMap, Namespace: spec.Namespace},
		Data:       data,
	}
	driver.Namespace = spec.Namespace
	r := &Rendered{
		Names: names, AppID: names.AppID, Namespace: spec.Namespace,
		ConfigMap: cm, DriverPod: driver, Service: b.service, Extra: b.extra,
		DriverMemoryMiB: b.driver.TotalMiB, DriverMemoryOverheadMiB: b.driver.OverheadMiB,
		ExecutorMemoryMiB: b.exec.TotalMiB, ExecutorMemoryOverheadMiB: b.exec.OverheadMiB,
	}
	appLabel := map[string]string{LabelSparkAppID: names.AppID}
	for _, m := range []*metav1.ObjectMeta{&cm.ObjectMeta, &driver.ObjectMeta, &r.Service.ObjectMeta} {
		m.Labels = mergeInto(mergeInto(m.Labels, appLabel), ours)
		m.Annotations = mergeInto(m.Annotations, map[string]string{AnnotationWorkflow: opts.WorkflowID})
	}
	for _, u := range r.Extra {
		u.SetLabels(mergeInto(mergeInto(u.GetLabels(), appLabel), ours))
		u.SetAnnotations(mergeInto(u.GetAnnotations(), map[string]string{AnnotationWorkflow: opts.WorkflowID}))
	}
	return r, nil
}

func mergeInto(dst, src map[string]string) map[string]string {
	mergeMap(&dst, src)
	return dst
}

// startPod is the pod the steps start from: a copy of the template, or an empty pod.
func startPod(t *corev1.PodTemplateSpec) *corev1.Pod {
	p := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}}
	if t != nil {
		t = t.DeepCopy()
		p.ObjectMeta = t.ObjectMeta
		p.Spec = t.Spec
	}
	return p
}

func copySpec(in *JobSpec) (*JobSpec, error) {
	raw, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("copy job spec: %w", err)
	}
	var out JobSpec
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("copy job spec: %w", err)
	}
	return &out, nil
}

// MarshalYAML writes the objects as multi-document YAML in creation order: ConfigMap, extras,
// driver Pod, Service. Keys are sorted, so equal objects give equal bytes.
func MarshalYAML(r *Rendered) ([]byte, error) {
	objs := []any{r.ConfigMap}
	for _, u := range r.Extra {
		objs = append(objs, u.Object)
	}
	objs = append(objs, r.DriverPod, r.Service)
	var out []byte
	for i, o := range objs {
		doc, err := marshalObject(o)
		if err != nil {
			return nil, fmt.Errorf("marshal object %d: %w", i+1, err)
		}
		out = append(out, "---\n"...)
		out = append(out, doc...)
	}
	return out, nil
}

// marshalTemplate writes the executor pod template without the empty metadata and container
// resources Go's types add, so it reads as what it is: only what Spark's conf cannot say.
func marshalTemplate(p *corev1.Pod) ([]byte, error) {
	m, err := objectMap(&corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: p.ObjectMeta, Spec: p.Spec})
	if err != nil {
		return nil, err
	}
	if md, ok := m["metadata"].(map[string]any); ok && len(md) == 0 {
		delete(m, "metadata")
	}
	spec, _ := m["spec"].(map[string]any)
	for _, key := range []string{"initContainers", "containers"} {
		cs, _ := spec[key].([]any)
		for _, c := range cs {
			if cm, ok := c.(map[string]any); ok {
				if r, ok := cm["resources"].(map[string]any); ok && len(r) == 0 {
					delete(cm, "resources")
				}
			}
		}
	}
	return yaml.Marshal(m)
}

// marshalObject writes one object as YAML without the empty status and creationTimestamp
// that Go's types add.
func marshalObject(o any) ([]byte, error) {
	m, err := objectMap(o)
	if err != nil {
		return nil, err
	}
	return yaml.Marshal(m)
}

// objectMap is an object as generic JSON, less the empty status and creationTimestamp.
func objectMap(o any) (map[string]any, error) {
	raw, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	delete(m, "status")
	if md, ok := m["metadata"].(map[string]any); ok {
		delete(md, "creationTimestamp")
	}
	return m, nil
}
