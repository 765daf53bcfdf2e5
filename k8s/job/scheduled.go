package job

import (
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Scheduled is a ScheduledSparkApplication: the operator's schedule around a job.
// +k8s:deepcopy-gen=false
type Scheduled struct {
	Name        string
	Namespace   string
	Annotations map[string]string
	// Spec holds the schedule's own fields; its Template is read into Job.
	Spec ScheduledSparkApplicationSpec
	// Job is the template as a job named after the schedule.
	Job *JobSpec
}

// Concurrency policies of a ScheduledSparkApplication.
const (
	ConcurrencyAllow   = "Allow"
	ConcurrencyForbid  = "Forbid"
	ConcurrencyReplace = "Replace"
)

// KindOf returns the kind of the manifest data holds ("" for a bare spec).
func KindOf(data []byte) (string, error) {
	docs, err := splitDocuments(data)
	if err != nil {
		return "", err
	}
	for _, doc := range docs {
		var tm typeMeta
		if err := json.Unmarshal(doc, &tm); err != nil {
			return "", fmt.Errorf("read job: %w", err)
		}
		if tm.Kind == kindSparkApp || tm.Kind == kindScheduledSpark {
			return tm.Kind, nil
		}
	}
	return "", nil
}

// ReadScheduled reads a ScheduledSparkApplication manifest. Like ReadLenient, it gives the
// fields it does not know as problems beside the result.
func ReadScheduled(data []byte) (*Scheduled, field.ErrorList, error) {
	kind, err := KindOf(data)
	if err != nil {
		return nil, nil, err
	}
	if kind != kindScheduledSpark {
		return nil, nil, fmt.Errorf("read schedule: the input holds no %s (found %q)", kindScheduledSpark, kind)
	}
	spec, unknown, err := ReadLenient(data)
	if err != nil {
		return nil, nil, err
	}
	docs, _ := splitDocuments(data)
	for _, doc := range docs {
		var app scheduledSparkApplication
		if json.Unmarshal(doc, &app) != nil || app.Kind != kindScheduledSpark {
			continue
		}
		app.Spec.Template = SparkApplicationSpec{}
		return &Scheduled{
			Name: app.Metadata.Name, Namespace: app.Metadata.Namespace, Annotations: app.Metadata.Annotations,
			Spec: app.Spec, Job: spec,
		}, unknown, nil
	}
	return nil, nil, fmt.Errorf("read schedule: no %s in the input", kindScheduledSpark)
}

// ScheduledSpecPath is where a ScheduledSparkApplication's own fields sit.
var ScheduledSpecPath = field.NewPath("spec")

// CheckScheduled checks the schedule's own fields that need no cron parser: the concurrency
// policy and the history limits. (The schedule and time zone are the schedule package's.)
func CheckScheduled(s *Scheduled) field.ErrorList {
	var errs field.ErrorList
	switch s.Spec.ConcurrencyPolicy {
	case "", ConcurrencyAllow, ConcurrencyForbid, ConcurrencyReplace:
	default:
		errs = append(errs, Invalid(ScheduledSpecPath.Child("concurrencyPolicy"), "must be Allow, Forbid or Replace; got %q", s.Spec.ConcurrencyPolicy))
	}
	for _, l := range []struct {
		name string
		v    *int32
	}{{"successfulRunHistoryLimit", s.Spec.SuccessfulRunHistoryLimit}, {"failedRunHistoryLimit", s.Spec.FailedRunHistoryLimit}} {
		if l.v != nil && *l.v < 0 {
			errs = append(errs, Invalid(ScheduledSpecPath.Child(l.name), "must be 0 or more, got %d", *l.v))
		}
	}
	return errs
}
