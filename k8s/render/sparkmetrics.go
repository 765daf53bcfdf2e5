package render

import "github.com/kindling-dev/kindling/k8s/job"

// sparkMetrics is spark.kindling.metrics: prometheus, the operator's
// spark-pi-prometheus-servlet example as one setting: Spark's PrometheusServlet sink on the
// driver's UI port (the driver's metrics at /metrics/driver/prometheus/, the executors' through
// the driver at /metrics/executors/prometheus/), metric names without the app id
// (spark.metrics.namespace), the prometheus.io annotations on the driver pod (executors' path)
// and its service (driver's path), and the label deploy/monitoring's PodMonitor selects. What
// the job's sparkConf sets itself wins.
var sparkMetrics = feature{
	name: "spark-metrics",
	conf: func(b *build) {
		if b.spec.SparkConf[job.ConfMetrics] != job.MetricsPrometheus {
			return
		}
		ui := "4040"
		if v, ok := b.conf["spark.ui.port"]; ok {
			ui = v
		}
		for k, v := range map[string]string{
			"spark.ui.prometheus.enabled":                                     "true",
			"spark.executor.processTreeMetrics.enabled":                       "true",
			"spark.metrics.namespace":                                         "${spark.app.name}",
			"spark.metrics.conf.*.sink.prometheusServlet.class":               "org.apache.spark.metrics.sink.PrometheusServlet",
			"spark.metrics.conf.driver.sink.prometheusServlet.path":           "/metrics/driver/prometheus/",
			"spark.metrics.conf.executor.sink.prometheusServlet.path":         "/metrics/executors/prometheus/",
			"spark.kubernetes.driver.annotation.prometheus.io/scrape":         "true",
			"spark.kubernetes.driver.annotation.prometheus.io/path":           "/metrics/executors/prometheus/",
			"spark.kubernetes.driver.annotation.prometheus.io/port":           ui,
			"spark.kubernetes.driver.service.annotation.prometheus.io/scrape": "true",
			"spark.kubernetes.driver.service.annotation.prometheus.io/path":   "/metrics/driver/prometheus/",
			"spark.kubernetes.driver.service.annotation.prometheus.io/port":   ui,
			"spark.kubernetes.driver.label.kindling.dev/metrics":              job.MetricsPrometheus,
		} {
			if _, set := b.conf[k]; !set {
				b.set(k, v)
			}
		}
	},
}
