package render

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kindling-dev/kindling/k8s/job"
)

// monitoring is the operator's spec.monitoring: metrics conf, the JMX exporter agent, the
// metrics files in the conf ConfigMap, their mounts and the exporter's port.
var monitoring = feature{
	name:     "monitoring",
	validate: validateMonitoring,
	conf: func(b *build) {
		monitoringConf(b.spec, b.conf)
		for k, v := range monitoringFiles(b.spec) {
			b.files[k] = v
		}
	},
	driver:   monitoringStep(job.SparkRoleDriver),
	executor: monitoringStep(job.SparkRoleExecutor),
}

func validateMonitoring(s *job.JobSpec) field.ErrorList {
	m := s.Monitoring
	if m == nil || m.Prometheus == nil {
		return nil
	}
	var errs field.ErrorList
	at := job.SpecPath.Child("monitoring", "prometheus")
	if m.Prometheus.JmxExporterJar == "" {
		errs = append(errs, job.Invalid(at.Child("jmxExporterJar"), "is required"))
	}
	if p := m.Prometheus.Port; p != nil && (*p < 1024 || *p > 49151) {
		errs = append(errs, job.Invalid(at.Child("port"), "must be between 1024 and 49151, got %d", *p))
	}
	if n := m.Prometheus.PortName; n != "" {
		for _, msg := range validation.IsValidPortName(n) {
			errs = append(errs, job.Invalid(at.Child("portName"), "%s", msg))
		}
	}
	return errs
}

// The operator's monitoring constants (pkg/common/prometheus.go).
const (
	metricsConfDir         = "/etc/metrics/conf"
	metricsVolume          = "spark-metrics-conf"
	metricsPropertiesKey   = "metrics.properties"
	prometheusConfigKey    = "prometheus.yaml"
	defaultPrometheusPort  = 8090
	defaultPrometheusPortN = "jmx-exporter"
)

const defaultMetricsProperties = `
*.sink.jmx.class=org.apache.spark.metrics.sink.JmxSink
driver.source.jvm.class=org.apache.spark.metrics.source.JvmSource
executor.source.jvm.class=org.apache.spark.metrics.source.JvmSource`

// monitoringConf applies spec.monitoring to the conf before the steps run, as the operator's
// configPrometheusMonitoring does to the spec: metrics namespace and conf file, and the JMX
// exporter java agent in the driver's and executors' java options.
func monitoringConf(s *job.JobSpec, c map[string]string) {
	m := s.Monitoring
	if m == nil || (!m.ExposeDriverMetrics && !m.ExposeExecutorMetrics) {
		return
	}
	c["spark.metrics.namespace"] = s.Namespace + "." + s.Name
	c["spark.metrics.conf"] = metricsConfDir + "/" + metricsPropertiesKey
	if m.MetricsPropertiesFile != "" {
		c["spark.metrics.conf"] = m.MetricsPropertiesFile
	}
	agent := ""
	if p := m.Prometheus; p != nil {
		agent = fmt.Sprintf("-javaagent:%s=%d:%s/%s", p.JmxExporterJar, promPort(m), metricsConfDir, prometheusConfigKey)
		if p.ConfigFile != "" {
			agent = fmt.Sprintf("-javaagent:%s=%d:%s", p.JmxExporterJar, promPort(m), p.ConfigFile)
		}
	}
	for role, on := range map[string]bool{"driver": m.ExposeDriverMetrics, "executor": m.ExposeExecutorMetrics} {
		if !on {
			continue
		}
		c["spark.kubernetes."+role+".annotation.prometheus.io/scrape"] = "true"
		c["spark.kubernetes."+role+".annotation.prometheus.io/port"] = itoa(promPort(m))
		c["spark.kubernetes."+role+".annotation.prometheus.io/path"] = "/metrics"
		if agent != "" {
			// monitoring_config.go appends the agent to the role's javaOptions, which the
			// operator then passes as extraJavaOptions, replacing any in sparkConf.
			opts := s.Driver.JavaOptions
			if role == "executor" {
				opts = s.Executor.JavaOptions
			}
			c["spark."+role+".extraJavaOptions"] = strings.TrimSpace(opts + " " + agent)
		}
	}
}

func promPort(m *job.MonitoringSpec) int32 {
	if m.Prometheus != nil && m.Prometheus.Port != nil {
		return *m.Prometheus.Port
	}
	return defaultPrometheusPort
}

// monitoringFiles are the metrics.properties and prometheus.yaml the conf ConfigMap carries.
func monitoringFiles(s *job.JobSpec) map[string]string {
	m := s.Monitoring
	if m == nil || (!m.ExposeDriverMetrics && !m.ExposeExecutorMetrics) {
		return nil
	}
	out := map[string]string{}
	if m.MetricsPropertiesFile == "" {
		out[metricsPropertiesKey] = defaultMetricsProperties
		if m.MetricsProperties != "" {
			out[metricsPropertiesKey] = m.MetricsProperties
		}
	}
	if p := m.Prometheus; p != nil && p.ConfigFile == "" {
		out[prometheusConfigKey] = defaultPrometheusConfiguration
		if p.Configuration != "" {
			out[prometheusConfigKey] = p.Configuration
		}
	}
	return out
}

// monitoringStep mounts the metrics files and opens the exporter's port, as the operator's
// webhook does.
func monitoringStep(role string) func(*build, *corev1.Pod) error {
	return func(b *build, pod *corev1.Pod) error {
		m := b.spec.Monitoring
		if m == nil || (role == "driver" && !m.ExposeDriverMetrics) || (role == "executor" && !m.ExposeExecutorMetrics) {
			return nil
		}
		c := roleContainer(pod, role)
		files := monitoringFiles(b.spec)
		if len(files) > 0 {
			var items []corev1.KeyToPath
			for _, k := range sortedKeys(files) {
				items = append(items, corev1.KeyToPath{Key: k, Path: k})
			}
			addVolume(pod, corev1.Volume{Name: metricsVolume, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: b.names.ConfigMap}, Items: items}}})
			addMount(c, corev1.VolumeMount{Name: metricsVolume, MountPath: metricsConfDir})
		}
		if m.Prometheus != nil {
			name := m.Prometheus.PortName
			if name == "" {
				name = defaultPrometheusPortN
			}
			c.Ports = append(c.Ports, corev1.ContainerPort{Name: name, ContainerPort: promPort(m), Protocol: corev1.ProtocolTCP})
		}
		return nil
	}
}
