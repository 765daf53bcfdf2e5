package k8s

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// Whole jobs, as a reviewer reads them: testdata/<name>.golden.yaml.
func TestGoldenJobs(t *testing.T) {
	for name, file := range map[string]string{
		"scala":        "spark-pi.yaml",
		"python":       "spark-pi-python.yaml",
		"pod-template": "spark-pi-pod-template.yaml",
		"volumes":      "spark-pi-configmap.yaml",
		"monitoring":   "spark-pi-prometheus-servlet.yaml",
		"volcano":      "spark-pi-volcano.yaml",
	} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(fixtures, file))
			if err != nil {
				t.Fatal(err)
			}
			spec, err := ReadJob(data)
			if err != nil {
				t.Fatal(err)
			}
			compareGolden(t, name, renderYAML(t, spec))
		})
	}
	t.Run("secrets", func(t *testing.T) {
		spec := minimalSpec()
		spec.Driver.Secrets = []SecretInfo{{Name: "gcp-key", Path: "/mnt/gcp", Type: SecretTypeGCPServiceAccount}}
		spec.Driver.EnvSecretKeyRefs = map[string]NameKey{"DB_PASSWORD": {Name: "db", Key: "password"}}
		spec.Executor.Secrets = []SecretInfo{{Name: "gcp-key", Path: "/mnt/gcp", Type: SecretTypeGCPServiceAccount}}
		compareGolden(t, "secrets", renderYAML(t, spec))
	})
	t.Run("prometheus-jmx", func(t *testing.T) {
		spec := minimalSpec()
		spec.Monitoring = &MonitoringSpec{ExposeDriverMetrics: true, ExposeExecutorMetrics: true,
			Prometheus: &PrometheusSpec{JmxExporterJar: "/prometheus/jmx_prometheus_javaagent-0.11.0.jar", Port: ptr(int32(8090))}}
		compareGolden(t, "prometheus-jmx", renderYAML(t, spec))
	})
}

func renderYAML(t *testing.T, spec *JobSpec) []byte {
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
