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
)

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
		if !kindlingDurations[k] {
			out = append(out, Invalid(SparkConfPath.Key(k), "unknown Kindling setting; known: %s, %s, %s", ConfDriverStartTimeout, ConfImagePullTimeout, ConfMaxRunTime))
			continue
		}
		if d, err := time.ParseDuration(spec.SparkConf[k]); err != nil || d <= 0 {
			out = append(out, Invalid(SparkConfPath.Key(k), "%q is not a positive duration such as 90s or 5m", spec.SparkConf[k]))
		}
	}
	return out
}
