package job

import (
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Kindling's own per-job settings, carried in sparkConf under spark.kindling.* so a
// manifest stays a valid SparkApplication; Spark ignores keys it does not know.
const (
	// ConfDriverStartTimeout: how long the driver may stay unscheduled before the attempt fails.
	ConfDriverStartTimeout = "spark.kindling.driver.startTimeout"
	// ConfImagePullTimeout: how long the driver may wait on its image before the attempt fails.
	ConfImagePullTimeout = "spark.kindling.driver.imagePullTimeout"
	// ConfMaxRunTime: how long one attempt may run before it is ended (default: no bound).
	ConfMaxRunTime = "spark.kindling.maxRunTime"
	// ConfMetrics "prometheus": Spark serves its own metrics in Prometheus' format on the
	// driver's UI port (PrometheusServlet, metric names without the app id), with the scrape
	// annotations on the driver pod and service and the label kindling.dev/metrics=prometheus.
	ConfMetrics = "spark.kindling.metrics"
)

// MetricsPrometheus is ConfMetrics' one value.
const MetricsPrometheus = "prometheus"

// Defaults of the duration settings.
const (
	DefaultDriverStartTimeout = 10 * time.Minute
	DefaultImagePullTimeout   = 2 * time.Minute
)

var kindlingDurations = map[string]bool{ConfDriverStartTimeout: true, ConfImagePullTimeout: true, ConfMaxRunTime: true}

// SettingDuration reads a duration setting, or def when the job does not set it.
func SettingDuration(spec *JobSpec, key string, def time.Duration) time.Duration {
	if v, ok := spec.SparkConf[key]; ok {
		if d, err := time.ParseDuration(v); err == nil && d > 0 {
			return d
		}
	}
	return def
}

// checkSettings names every spark.kindling.* key that is unknown or badly formed.
func checkSettings(spec *JobSpec) field.ErrorList {
	var keys []string
	for k := range spec.SparkConf {
		if strings.HasPrefix(k, "spark.kindling.") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out field.ErrorList
	for _, k := range keys {
		if k == ConfMetrics {
			if v := spec.SparkConf[k]; v != MetricsPrometheus {
				out = append(out, Invalid(SparkConfPath.Key(k), "%q: the one value is %q", v, MetricsPrometheus))
			}
			continue
		}
		if !kindlingDurations[k] {
			out = append(out, Invalid(SparkConfPath.Key(k), "unknown Kindling setting; known: %s, %s, %s, %s", ConfDriverStartTimeout, ConfImagePullTimeout, ConfMaxRunTime, ConfMetrics))
			continue
		}
		if d, err := time.ParseDuration(spec.SparkConf[k]); err != nil || d <= 0 {
			out = append(out, Invalid(SparkConfPath.Key(k), "%q is not a positive duration such as 90s or 5m", spec.SparkConf[k]))
		}
	}
	return out
}
