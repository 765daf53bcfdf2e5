package pipeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// MaxOutputBytes is the most a driver's output may hold: Kubernetes keeps at most 4096 bytes of
// a container's termination message and cuts the rest.
const MaxOutputBytes = 4096

// OutputPath is where a driver writes its output: the container's termination message file
// (Kubernetes' default terminationMessagePath).
const OutputPath = "/dev/termination-log"

// ParseOutputs reads a driver's output: a JSON object whose values are strings, numbers,
// booleans or null (objects and arrays are kept as compact JSON). An empty message is no
// output. Anything else is an error that says what was wrong.
func ParseOutputs(msg string) (map[string]string, error) {
	if strings.TrimSpace(msg) == "" {
		return nil, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(msg), &raw); err != nil || raw == nil {
		if len(msg) >= MaxOutputBytes {
			return nil, fmt.Errorf("the driver's output (its termination message, %s) reached %d bytes, the most Kubernetes keeps, and was cut: keep it under 4 KiB", OutputPath, MaxOutputBytes)
		}
		return nil, fmt.Errorf("the driver's output (its termination message, %s) must be a JSON object such as {\"rows\": 42}, got %q", OutputPath, clip(msg, 80))
	}
	out := make(map[string]string, len(raw))
	for _, k := range slices.Sorted(maps.Keys(raw)) { // the first bad key is the same on every run
		v := raw[k]
		if !outputKey.MatchString(k) {
			return nil, fmt.Errorf("the driver's output has the key %q: keys are letters, digits, _ and -, starting with a letter or _", k)
		}
		var s string
		if json.Unmarshal(v, &s) == nil {
			out[k] = s
			continue
		}
		if bytes.Equal(v, []byte("null")) {
			out[k] = ""
			continue
		}
		var c bytes.Buffer
		_ = json.Compact(&c, v)
		out[k] = c.String()
	}
	return out, nil
}

var outputKey = regexp.MustCompile(`^[A-Za-z_][-A-Za-z0-9_]*$`)

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// A task reference in a template: tasks.NAME.outputs.KEY (a key of NAME's output) or
// tasks.NAME.status (NAME's result, one of the Result* names).
var taskTemplate = regexp.MustCompile(`^tasks\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.(outputs\.([A-Za-z_][-A-Za-z0-9_]*)|status)$`)

// TaskRef is what a task template names.
type TaskRef struct {
	Task string
	Key  string // the output's key; "" for tasks.NAME.status
}

// ParseTaskRef reads a template's name as a task reference; ok is false for other names
// (the dates' templates, typos). A name starting with "tasks." that is neither form is an
// error.
func ParseTaskRef(name string) (TaskRef, bool, error) {
	if !strings.HasPrefix(name, "tasks.") {
		return TaskRef{}, false, nil
	}
	m := taskTemplate.FindStringSubmatch(name)
	if m == nil {
		return TaskRef{}, false, fmt.Errorf("{{ %s }}: want {{ tasks.NAME.outputs.KEY }} or {{ tasks.NAME.status }}", name)
	}
	return TaskRef{Task: m[1], Key: m[4]}, true, nil
}
