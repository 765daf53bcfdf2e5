package render

import (
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kindling-dev/kindling/k8s/job"
)

// build is what the features share while one attempt renders: the spec, the names, the Spark
// conf they read and add to (Spark's getAdditionalPodSystemProperties), the ConfigMap's extra
// files, the sizes, and the objects made beside the pods. Features mutate the pod they are given.
type build struct {
	spec         *job.JobSpec
	names        job.Names
	opts         Options
	conf         map[string]string
	files        map[string]string // extra files of the conf ConfigMap, by key
	driver       MemorySizes
	driverFactor float64 // the default overhead factor the driver passes on to executors
	exec         MemorySizes
	service      *corev1.Service
	extra        []*unstructured.Unstructured
}

func (b *build) set(k, v string) { b.conf[k] = v }

func (b *build) pod(role string) *job.SparkPodSpec { return rolePod(b.spec, role) }

// sparkContainer is Spark's container in pod: the one named name, else the first; one is added
// when the pod has none.
func sparkContainer(pod *corev1.Pod, name string) *corev1.Container {
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == name {
			return &pod.Spec.Containers[i]
		}
	}
	if len(pod.Spec.Containers) == 0 {
		pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: name})
	}
	c := &pod.Spec.Containers[0]
	if c.Name == "" {
		c.Name = name
	}
	return c
}

// mainContainer is the driver's Spark container, for the steps only the driver runs.
func mainContainer(pod *corev1.Pod) *corev1.Container {
	return sparkContainer(pod, job.DriverContainerName)
}

// roleContainer is Spark's container of a driver pod or of the executor template.
func roleContainer(pod *corev1.Pod, role string) *corev1.Container {
	if role == job.SparkRoleExecutor {
		return sparkContainer(pod, job.ExecutorContainerName)
	}
	return sparkContainer(pod, job.DriverContainerName)
}

func addVolume(pod *corev1.Pod, v corev1.Volume) {
	for _, have := range pod.Spec.Volumes {
		if have.Name == v.Name {
			return
		}
	}
	pod.Spec.Volumes = append(pod.Spec.Volumes, v)
}

func addMount(c *corev1.Container, m corev1.VolumeMount) {
	for _, have := range c.VolumeMounts {
		if have.Name == m.Name && have.MountPath == m.MountPath {
			return
		}
	}
	c.VolumeMounts = append(c.VolumeMounts, m)
}

// setEnv sets an env var, replacing one of the same name so steps stay idempotent.
func setEnv(c *corev1.Container, e corev1.EnvVar) {
	for i := range c.Env {
		if c.Env[i].Name == e.Name {
			c.Env[i] = e
			return
		}
	}
	c.Env = append(c.Env, e)
}

func mergeMap(dst *map[string]string, src map[string]string) {
	if len(src) == 0 {
		return
	}
	if *dst == nil {
		*dst = map[string]string{}
	}
	for k, v := range src {
		(*dst)[k] = v
	}
}

// substituteIDs replaces {{APP_ID}} and {{EXECUTOR_ID}} as Spark's Utils.substituteAppNExecIds does.
func substituteIDs(s, appID, execID string) string {
	return strings.NewReplacer("{{APP_ID}}", appID, "{{EXECUTOR_ID}}", execID).Replace(s)
}

func itoa[T ~int32 | ~int64 | ~int](n T) string { return strconv.FormatInt(int64(n), 10) }

// rolePod is spec.driver or spec.executor's pod fields.
func rolePod(s *job.JobSpec, role string) *job.SparkPodSpec {
	if role == job.SparkRoleDriver {
		return &s.Driver.SparkPodSpec
	}
	return &s.Executor.SparkPodSpec
}
