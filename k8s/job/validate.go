package job

import (
	"fmt"
	"net/url"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Problem is one thing wrong with a spec: the field, as a path from the manifest root
// (spec.driver.coreLimit, spec.sparkConf[spark.driver.host]), and the rule it breaks.
type Problem struct {
	Field string `json:"field"`
	Rule  string `json:"rule"`
}

func (p Problem) String() string { return p.Field + ": " + p.Rule }

// ValidationError lists every problem of a spec at once.
type ValidationError struct {
	Problems []Problem `json:"problems"`
	// What was checked, for the message: "job spec" when empty.
	What string `json:"what,omitempty"`
}

func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	noun := "problems"
	if len(e.Problems) == 1 {
		noun = "problem"
	}
	what := e.What
	if what == "" {
		what = "job spec"
	}
	return fmt.Sprintf("invalid %s (%d %s):\n%s", what, len(e.Problems), noun, strings.Join(lines, "\n"))
}

// Errors is a *ValidationError holding list, in its order, or nil when list is empty.
func Errors(list field.ErrorList) error {
	if len(list) == 0 {
		return nil
	}
	ps := make([]Problem, len(list))
	for i, e := range list {
		ps[i] = Problem{Field: e.Field, Rule: e.Detail}
	}
	return &ValidationError{Problems: ps}
}

// Invalid is the problem at path: the rule it breaks, in words a person reads.
func Invalid(path *field.Path, format string, args ...any) *field.Error {
	return &field.Error{Type: field.ErrorTypeInvalid, Field: path.String(), Detail: fmt.Sprintf(format, args...)}
}

// Paths every rule starts from.
var (
	SpecPath      = field.NewPath("spec")
	SparkConfPath = SpecPath.Child("sparkConf")
	MetadataPath  = field.NewPath("metadata")
)

// RolePath is spec.driver or spec.executor.
func RolePath(role string) *field.Path { return SpecPath.Child(role) }

// Check returns the problems of a defaulted spec that concern the job as a whole, whatever it
// renders to: its name and namespace, type and mode, image, main file and dependencies,
// restart policy and TTL, what Kindling does not serve yet, and Kindling's own settings. Each
// Spark feature checks its own fields (see package render, whose Validate runs both).
func Check(s *JobSpec) field.ErrorList {
	var errs field.ErrorList
	add := func(path *field.Path, format string, args ...any) {
		errs = append(errs, Invalid(path, format, args...))
	}
	switch {
	case s.Name == "":
		add(MetadataPath.Child("name"), "is required")
	default:
		for _, msg := range validation.IsDNS1123Subdomain(s.Name) {
			add(MetadataPath.Child("name"), "must be a DNS-1123 subdomain: %s", msg)
		}
	}
	for _, msg := range validation.IsDNS1123Label(s.Namespace) {
		add(MetadataPath.Child("namespace"), "must be a DNS-1123 label: %s", msg)
	}
	switch s.Type {
	case TypeJava, TypeScala, TypePython, TypeR:
	default:
		add(SpecPath.Child("type"), "must be one of Java, Scala, Python, R; got %q", s.Type)
	}
	switch s.Mode {
	case ModeCluster:
	case ModeClient, ModeInClusterClient:
		add(SpecPath.Child("mode"), "%s mode runs the driver outside a job (a notebook): start a session for that pod with `kindling session start --pod NAME` (docs/sessions.md), or use mode: cluster", s.Mode)
	default:
		add(SpecPath.Child("mode"), "must be cluster; got %q", s.Mode)
	}
	if s.Image == "" && (s.Driver.Image == "" || s.Executor.Image == "") && s.SparkConf["spark.kubernetes.container.image"] == "" {
		add(SpecPath.Child("image"), "is required (or both spec.driver.image and spec.executor.image)")
	}
	switch s.ImagePullPolicy {
	case "", "Always", "IfNotPresent", "Never":
	default:
		add(SpecPath.Child("imagePullPolicy"), "must be Always, IfNotPresent or Never; got %q", s.ImagePullPolicy)
	}
	if s.MainApplicationFile == "" {
		add(SpecPath.Child("mainApplicationFile"), "is required")
	} else {
		errs = append(errs, checkURI(SpecPath.Child("mainApplicationFile"), s.MainApplicationFile)...)
	}
	for _, d := range []struct {
		field string
		uris  []string
	}{{"jars", s.Deps.Jars}, {"files", s.Deps.Files}, {"pyFiles", s.Deps.PyFiles}, {"archives", s.Deps.Archives}} {
		for i, u := range d.uris {
			errs = append(errs, checkURI(SpecPath.Child("deps", d.field).Index(i), u)...)
		}
	}
	if (s.Type == TypeJava || s.Type == TypeScala) && s.MainClass == "" && s.SparkConf["spark.kubernetes.driver.mainClass"] == "" {
		// Spark can read Main-Class from the jar's manifest, but only after submission
		// fetched it; Kindling does not, so the class must be named.
		add(SpecPath.Child("mainClass"), "is required for %s applications", s.Type)
	}
	rp := s.RestartPolicy
	at := SpecPath.Child("restartPolicy")
	switch rp.Type {
	case RestartNever, RestartOnFailure, RestartAlways:
	default:
		add(at.Child("type"), "must be Never, OnFailure or Always; got %q", rp.Type)
	}
	for _, r := range []struct {
		field string
		v     *int32
	}{{"onFailureRetries", rp.OnFailureRetries}, {"onSubmissionFailureRetries", rp.OnSubmissionFailureRetries}} {
		if r.v != nil && *r.v < 0 {
			add(at.Child(r.field), "must be 0 or more, got %d", *r.v)
		}
	}
	for _, r := range []struct {
		field string
		v     *int64
	}{{"onFailureRetryInterval", rp.OnFailureRetryInterval}, {"onSubmissionFailureRetryInterval", rp.OnSubmissionFailureRetryInterval}} {
		if r.v != nil && *r.v < 1 {
			add(at.Child(r.field), "must be at least 1 second, got %d", *r.v)
		}
	}
	if s.FailureRetries != nil || s.RetryInterval != nil {
		add(SpecPath.Child("failureRetries"), "is not supported: use spec.restartPolicy.onFailureRetries and onFailureRetryInterval")
	}
	if s.TimeToLiveSeconds != nil && *s.TimeToLiveSeconds < 0 {
		add(SpecPath.Child("timeToLiveSeconds"), "must be 0 or more, got %d", *s.TimeToLiveSeconds)
	}
	if s.SparkUIOptions != nil {
		add(SpecPath.Child("sparkUIOptions"), "is not supported yet: Kindling creates no UI service or ingress; reach the UI through the driver service port spark-ui (4040)")
	}
	if len(s.DriverIngressOptions) > 0 {
		add(SpecPath.Child("driverIngressOptions"), "is not supported yet: Kindling creates no ingress")
	}
	if s.Driver.PodName != "" {
		add(SpecPath.Child("driver", "podName"), "is honoured only in controller mode (a SparkApplication applied to the cluster); `kindling submit` derives driver pod names from the workflow and attempt")
	}
	if s.Suspend != nil && *s.Suspend {
		add(SpecPath.Child("suspend"), "true suspends a SparkApplication applied to a cluster that runs Kindling's controller; `kindling submit` runs the job now: remove it or set it false")
	}
	if s.Executor.Instances != nil && *s.Executor.Instances < 0 {
		add(SpecPath.Child("executor", "instances"), "must be 0 or more, got %d", *s.Executor.Instances)
	}
	errs = append(errs, TemplateProblems(s)...)
	return append(errs, checkSettings(s)...)
}

func checkURI(path *field.Path, u string) field.ErrorList {
	parsed, err := url.Parse(u)
	if err != nil {
		return field.ErrorList{Invalid(path, "is not a URI: %v", err)}
	}
	// Any other scheme is a Hadoop file system Spark reads itself (s3a, gs, abfss, ftp, oss,
	// …, whatever fs.<scheme>.impl the image carries): passed through unverified.
	if parsed.Scheme == "" || parsed.Scheme == "file" {
		return field.ErrorList{Invalid(path, "%q is a file on the submitting machine, which Kindling cannot upload; use local:// for a file in the image, or http(s)://", u)}
	}
	return nil
}
