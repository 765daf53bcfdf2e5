package render

import (
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

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
