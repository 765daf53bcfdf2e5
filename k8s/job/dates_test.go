package job_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/k8s/job/jobtest"
)

func TestFillTemplatesGivesAirflowsMeanings(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	// The nightly run fired at midnight of 25 November covers 24 November.
	end := time.Date(2026, 11, 25, 0, 0, 0, 0, ny)
	d := job.Dates{LogicalDate: end.AddDate(0, 0, -1), DataIntervalStart: end.AddDate(0, 0, -1), DataIntervalEnd: end}
	s := jobtest.Minimal()
	s.Arguments = []string{"--date={{ ds }}", "{{ds_nodash}}", "--from", "{{ data_interval_start }}", "--to", "{{ data_interval_end }}", "plain"}
	s.SparkConf = map[string]string{"spark.app.day": "{{ logical_date }}", "spark.other": "no template"}
	s.Driver.Env = []corev1.EnvVar{{Name: "DAY", Value: "day={{ ds }}"}}
	s.Executor.EnvVars = map[string]string{"DAY": "{{ ds_nodash }}"}

	got, err := job.FillTemplates(s, d)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"--date=2026-11-24", "20261124", "--from", "2026-11-24T00:00:00-05:00", "--to", "2026-11-25T00:00:00-05:00", "plain"}
	if diff := cmp.Diff(want, got.Arguments); diff != "" {
		t.Errorf("arguments (-want +got):\n%s", diff)
	}
	if got.SparkConf["spark.app.day"] != "2026-11-24T00:00:00-05:00" || got.SparkConf["spark.other"] != "no template" {
		t.Errorf("sparkConf = %v", got.SparkConf)
	}
	if got.Driver.Env[0].Value != "day=2026-11-24" || got.Executor.EnvVars["DAY"] != "20261124" {
		t.Errorf("env = %v, %v", got.Driver.Env, got.Executor.EnvVars)
	}
	if s.Arguments[0] != "--date={{ ds }}" {
		t.Errorf("FillTemplates changed its input: %q", s.Arguments[0])
	}
	if !job.UsesTemplates(s) || job.UsesTemplates(got) {
		t.Errorf("UsesTemplates: before %v, after %v; want true, false", job.UsesTemplates(s), job.UsesTemplates(got))
	}
}

func TestUnknownTemplateIsAProblemAtItsField(t *testing.T) {
	s := jobtest.Minimal()
	job.Default(s)
	s.Arguments = []string{"--date={{ ds }}", "{{ execution_date }}"}
	s.SparkConf = map[string]string{"spark.x": "{{ds_nodash}}-{{ tomorrow_ds }}"}
	errs := job.Check(s)
	msg := job.Errors(errs).Error()
	for _, want := range []string{
		"spec.arguments[1]: unknown template {{ execution_date }}",
		"spec.sparkConf[spark.x]: unknown template {{ tomorrow_ds }}",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("problems lack %q:\n%s", want, msg)
		}
	}
	if _, err := job.FillTemplates(s, job.Dates{}); err == nil {
		t.Error("FillTemplates filled a spec with unknown templates")
	}
}
