package job

import (
	"strconv"
	"strings"

	"k8s.io/utils/ptr"
)

// Default fills in what the Spark operator defaults, leaving every set field alone. A value
// the user gave through sparkConf (spark.driver.memory, …) is not shadowed by a default.
func Default(s *JobSpec) {
	if s.Namespace == "" {
		s.Namespace = "default"
	}
	if s.Type == "" {
		s.Type = TypeScala
	}
	if s.Mode == "" {
		s.Mode = ModeCluster
	}
	if s.RestartPolicy.Type == "" {
		s.RestartPolicy.Type = RestartNever
	}
	if s.RestartPolicy.Type != RestartNever {
		// The operator's defaulter: five seconds between retries unless told otherwise.
		if s.RestartPolicy.OnFailureRetryInterval == nil {
			s.RestartPolicy.OnFailureRetryInterval = ptr.To(int64(5))
		}
		if s.RestartPolicy.OnSubmissionFailureRetryInterval == nil {
			s.RestartPolicy.OnSubmissionFailureRetryInterval = ptr.To(int64(5))
		}
	}
	defaultPod(&s.Driver.SparkPodSpec, s.SparkConf, "driver")
	defaultPod(&s.Executor.SparkPodSpec, s.SparkConf, "executor")
	// With dynamic allocation Spark starts max(min, initial) executors: no default count
	// (the operator's api/v1beta2/defaults.go does the same).
	if s.Executor.Instances == nil && s.SparkConf["spark.executor.instances"] == "" && !s.DynamicAllocationEnabled() {
		s.Executor.Instances = ptr.To(int32(1))
	}
}

func defaultPod(p *SparkPodSpec, conf map[string]string, role string) {
	if p.Cores == nil && conf["spark."+role+".cores"] == "" {
		p.Cores = ptr.To(int32(1))
	}
	if p.Memory == "" && conf["spark."+role+".memory"] == "" {
		p.Memory = DefaultMemory
	}
}

// DynamicAllocationEnabled tells whether the job asks for dynamic allocation, in
// spec.dynamicAllocation or in its sparkConf.
func (s *JobSpec) DynamicAllocationEnabled() bool {
	if s.DynamicAllocation != nil {
		return s.DynamicAllocation.Enabled
	}
	return strings.EqualFold(s.SparkConf["spark.dynamicAllocation.enabled"], "true")
}

// SparkMajorVersion is the major version of spec.sparkVersion ("3.5.1" → 3); a job that names
// none gets the newest Spark's behaviour.
func (s *JobSpec) SparkMajorVersion() int {
	major, _, _ := strings.Cut(strings.TrimPrefix(s.SparkVersion, "v"), ".")
	if n, err := strconv.Atoi(major); err == nil && n > 0 {
		return n
	}
	return NewestSparkMajor
}

// NewestSparkMajor is the Spark whose behaviour a job without sparkVersion gets.
const NewestSparkMajor = 4

// SparkVersionBefore tells whether the job's sparkVersion is older than major.minor.patch; a
// job without one runs the newest Spark, which is older than nothing.
func (s *JobSpec) SparkVersionBefore(major, minor, patch int) bool {
	parts := strings.SplitN(strings.TrimPrefix(s.SparkVersion, "v"), ".", 3)
	var v [3]int
	for i, p := range parts {
		p, _, _ = strings.Cut(p, "-") // 3.5.1-SNAPSHOT
		n, err := strconv.Atoi(p)
		if err != nil {
			return false
		}
		v[i] = n
	}
	if s.SparkVersion == "" {
		return false
	}
	want := [3]int{major, minor, patch}
	for i := range v {
		if v[i] != want[i] {
			return v[i] < want[i]
		}
	}
	return false
}
