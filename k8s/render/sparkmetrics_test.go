package render

import (
	"strings"
	"testing"

	"github.com/kindling-dev/kindling/k8s/job"
)

func TestSparkMetricsSettingExposesThePrometheusServlet(t *testing.T) {
	s := minimalSpec()
	s.SparkConf = map[string]string{job.ConfMetrics: job.MetricsPrometheus, "spark.metrics.namespace": "etl"}
	job.Default(s)
	r := mustRender(t, s)
	props := r.ConfigMap.Data["spark.properties"]
	for _, want := range []string{
		"spark.metrics.conf.*.sink.prometheusServlet.class=org.apache.spark.metrics.sink.PrometheusServlet",
		"spark.metrics.conf.driver.sink.prometheusServlet.path=/metrics/driver/prometheus/",
		"spark.ui.prometheus.enabled=true",
		"spark.metrics.namespace=etl", // the job's own value wins
	} {
		if !strings.Contains(props, want+"\n") {
			t.Errorf("spark.properties lacks %s", want)
		}
	}
	if a := r.DriverPod.Annotations; a["prometheus.io/scrape"] != "true" || a["prometheus.io/path"] != "/metrics/executors/prometheus/" || a["prometheus.io/port"] != "4040" {
		t.Errorf("driver pod annotations %v", a)
	}
	if r.DriverPod.Labels["kindling.dev/metrics"] != "prometheus" {
		t.Errorf("driver pod labels %v", r.DriverPod.Labels)
	}
	if a := r.Service.Annotations; a["prometheus.io/path"] != "/metrics/driver/prometheus/" {
		t.Errorf("service annotations %v", a)
	}

	s.SparkConf[job.ConfMetrics] = "yes"
	if err := Validate(s); err == nil || !strings.Contains(err.Error(), `spec.sparkConf[spark.kindling.metrics]: "yes": the one value is "prometheus"`) {
		t.Errorf("a bad value: %v", err)
	}
}
