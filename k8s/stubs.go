package k8s

// Default fills in what the operator defaults.
func Default(spec *JobSpec) {}

// Validate checks the spec.
func Validate(spec *JobSpec) error { return nil }

// Render turns a spec into objects.
func Render(spec *JobSpec, opts RenderOptions) (*Rendered, error) { return nil, nil }

// MarshalYAML prints the objects.
func MarshalYAML(r *Rendered) ([]byte, error) { return nil, nil }

// Problem is one thing wrong with a spec: the field path and the rule it breaks.
type Problem struct {
	Field string
	Rule  string
}

// ValidationError lists every problem found.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string { return "" }
