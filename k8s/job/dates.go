package job

import (
	"regexp"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Dates are the times a run stands for, named as Airflow names them. A scheduled run that
// fires at nominal time T covers the data interval [previous fire time, T); its logical date
// is the interval's start, so the nightly run fired at midnight processes the day before.
// The times are in the schedule's time zone.
// +k8s:deepcopy-gen=false
type Dates struct {
	LogicalDate       time.Time `json:"logicalDate"`
	DataIntervalStart time.Time `json:"dataIntervalStart"`
	DataIntervalEnd   time.Time `json:"dataIntervalEnd"`
}

// Templates are the names a job may use as `{{ name }}` in its arguments, sparkConf values and
// environment values; FillTemplates replaces them before anything is rendered.
var Templates = []string{"ds", "ds_nodash", "logical_date", "data_interval_start", "data_interval_end"}

// timeLayout writes times as Airflow does (ISO 8601 with the zone's offset, +00:00 for UTC).
const timeLayout = "2006-01-02T15:04:05-07:00"

// Values returns each template's text for these dates.
func (d Dates) Values() map[string]string {
	return map[string]string{
		"ds":                  d.LogicalDate.Format(time.DateOnly),
		"ds_nodash":           d.LogicalDate.Format("20060102"),
		"logical_date":        d.LogicalDate.Format(timeLayout),
		"data_interval_start": d.DataIntervalStart.Format(timeLayout),
		"data_interval_end":   d.DataIntervalEnd.Format(timeLayout),
	}
}

var templateRE = regexp.MustCompile(`\{\{\s*([^{}\s]*)\s*\}\}`)

// UsesTemplates reports whether any templated field of s holds a `{{ … }}`.
func UsesTemplates(s *JobSpec) bool {
	used := false
	EachTemplate(s, func(*field.Path, string) { used = true })
	return used
}

// TemplateProblems lists every `{{ name }}` whose name is not one of Templates, at its field.
func TemplateProblems(s *JobSpec) field.ErrorList {
	var errs field.ErrorList
	EachTemplate(s, func(p *field.Path, name string) {
		if !known(name) {
			errs = append(errs, Invalid(p, "unknown template {{ %s }}: the names are %s", name, strings.Join(Templates, ", ")))
		}
	})
	return errs
}

// FillTemplates returns a copy of s with every template replaced by its value for d. It
// refuses a spec that names an unknown template (TemplateProblems).
func FillTemplates(s *JobSpec, d Dates) (*JobSpec, error) {
	if errs := TemplateProblems(s); len(errs) > 0 {
		return nil, Errors(errs)
	}
	values := d.Values()
	return ReplaceTemplates(s, func(name string) (string, bool) { return values[name], true }), nil
}

// EachTemplate calls f with every `{{ name }}` in the templated fields of s, at its field.
func EachTemplate(s *JobSpec, f func(p *field.Path, name string)) {
	eachTemplated(s.DeepCopy(), func(p *field.Path, v string) string {
		for _, name := range TemplatesIn(v) {
			f(p, name)
		}
		return v
	})
}

// ReplaceTemplates returns a copy of s in which every template whose name f knows (ok) is
// replaced by what f returns; the others stay as written.
func ReplaceTemplates(s *JobSpec, f func(name string) (value string, ok bool)) *JobSpec {
	out := s.DeepCopy()
	eachTemplated(out, func(_ *field.Path, v string) string { return ReplaceIn(v, f) })
	return out
}

// TemplatesIn are the names of the `{{ name }}` templates in v, in order.
func TemplatesIn(v string) []string {
	var names []string
	for _, m := range templateRE.FindAllStringSubmatch(v, -1) {
		names = append(names, m[1])
	}
	return names
}

// ReplaceIn replaces each template in v whose name f knows (ok) by what f returns.
func ReplaceIn(v string, f func(name string) (value string, ok bool)) string {
	return templateRE.ReplaceAllStringFunc(v, func(m string) string {
		if value, ok := f(templateRE.FindStringSubmatch(m)[1]); ok {
			return value
		}
		return m
	})
}

func known(name string) bool {
	for _, t := range Templates {
		if t == name {
			return true
		}
	}
	return false
}

// eachTemplated calls f with each templated field of s, in a stable order, and stores what
// f returns: spec.arguments, spec.sparkConf values and the roles' env values.
func eachTemplated(s *JobSpec, f func(*field.Path, string) string) {
	for i, a := range s.Arguments {
		s.Arguments[i] = f(SpecPath.Child("arguments").Index(i), a)
	}
	for _, k := range sortedKeys(s.SparkConf) {
		s.SparkConf[k] = f(SparkConfPath.Key(k), s.SparkConf[k])
	}
	for _, r := range []struct {
		name string
		pod  *SparkPodSpec
	}{{"driver", &s.Driver.SparkPodSpec}, {"executor", &s.Executor.SparkPodSpec}} {
		at := SpecPath.Child(r.name)
		for i := range r.pod.Env {
			r.pod.Env[i].Value = f(at.Child("env").Index(i).Child("value"), r.pod.Env[i].Value)
		}
		for _, k := range sortedKeys(r.pod.EnvVars) {
			r.pod.EnvVars[k] = f(at.Child("envVars").Key(k), r.pod.EnvVars[k])
		}
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
