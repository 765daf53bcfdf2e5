package render

import (
	"bytes"
	"testing"

	"k8s.io/utils/ptr"

	"github.com/kindling-dev/kindling/k8s/job/jobtest"

	"github.com/kindling-dev/kindling/k8s/job"
)

// goldenFixtures are the operator examples whose renders testdata/<name>.golden.yaml records.
var goldenFixtures = map[string]string{
	"scala":              "spark-pi.yaml",
	"python":             "spark-pi-python.yaml",
	"pod-template":       "spark-pi-pod-template.yaml",
	"volumes":            "spark-pi-configmap.yaml",
	"monitoring":         "spark-pi-prometheus-servlet.yaml",
	"volcano":            "spark-pi-volcano.yaml",
	"dynamic-allocation": "spark-pi-dynamic-allocation.yaml",
}

// goldenJobs are the specs of every golden file, by golden name.
func goldenJobs(t *testing.T) map[string]*job.JobSpec {
	t.Helper()
	jobs := map[string]*job.JobSpec{}
	if dir, ok := jobtest.ExamplesDir(); ok {
		for name, file := range goldenFixtures {
			jobs[name] = jobtest.ReadExample(t, file)
		}
	} else {
		t.Logf("the Spark operator's examples are not at %s: only the golden jobs made here are checked", dir)
	}
	secrets := minimalSpec()
	secrets.Driver.Secrets = []job.SecretInfo{{Name: "gcp-key", Path: "/mnt/gcp", Type: job.SecretTypeGCPServiceAccount}}
	secrets.Driver.EnvSecretKeyRefs = map[string]job.NameKey{"DB_PASSWORD": {Name: "db", Key: "password"}}
	secrets.Executor.Secrets = []job.SecretInfo{{Name: "gcp-key", Path: "/mnt/gcp", Type: job.SecretTypeGCPServiceAccount}}
	jobs["secrets"] = secrets

	jmx := minimalSpec()
	jmx.Monitoring = &job.MonitoringSpec{ExposeDriverMetrics: true, ExposeExecutorMetrics: true,
		Prometheus: &job.PrometheusSpec{JmxExporterJar: "/prometheus/jmx_prometheus_javaagent-0.11.0.jar", Port: ptr.To(int32(8090))}}
	jobs["prometheus-jmx"] = jmx
	return jobs
}

// Whole jobs, as a reviewer reads them: testdata/<name>.golden.yaml.
func TestGoldenJobs(t *testing.T) {
	for name, spec := range goldenJobs(t) {
		t.Run(name, func(t *testing.T) {
			compareGolden(t, name, renderYAML(t, spec))
		})
	}
}

func renderYAML(t *testing.T, spec *job.JobSpec) []byte {
	t.Helper()
	out, err := MarshalYAML(mustRender(t, spec))
	if err != nil {
		t.Fatal(err)
	}
	again, _ := MarshalYAML(mustRender(t, spec))
	if !bytes.Equal(out, again) {
		t.Fatal("two renders of the same spec differ")
	}
	return out
}
