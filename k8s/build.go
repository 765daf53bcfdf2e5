package k8s

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// build is what the feature steps share: the spec, the names, and the Spark conf they read and
// add to (Spark's getAdditionalPodSystemProperties). Steps mutate the pod they are given.
type build struct {
	spec    *JobSpec
	names   Names
	opts    RenderOptions
	conf    map[string]string
	driver  MemorySizes
	exec    MemorySizes
	service *corev1.Service
	extra   []*unstructured.Unstructured
}

type podStep struct {
	name  string
	apply func(b *build, pod *corev1.Pod) error
}

// driverSteps are KubernetesDriverBuilder's steps in its order, then what the operator's
// webhook adds from SparkPodSpec, then the batch scheduler.
var driverSteps = []podStep{
	{"basic", basicDriverStep},
	{"credentials", driverCredentialsStep},
	{"service", driverServiceStep},
	{"secrets", secretsStep("driver")},
	{"env-secrets", envSecretsStep("driver")},
	{"volumes", volumesStep("driver")},
	{"command", driverCommandStep},
	{"hadoop-conf", hadoopConfStep},
	{"kerberos", kerberosStep},
	{"pod-template", podTemplateStep},
	{"local-dirs", localDirsStep},
	{"conf-volume", confVolumeStep},
	{"operator-pod-spec", operatorPodSpecStep("driver")},
	{"monitoring", monitoringStep("driver")},
	{"batch-scheduler", batchSchedulerStep},
}

// executorTemplateSteps write the executor pod template. A Spark driver starts each executor
// from the template and then runs KubernetesExecutorBuilder's steps (basic, credentials,
// secrets, env secrets, volumes, Hadoop conf, local dirs) from spark.properties, appending
// without looking for duplicates: so the template carries only what Spark cannot express
// through its conf, which the operator's webhook would otherwise add.
var executorTemplateSteps = []podStep{
	{"template-container", executorContainerStep},
	{"volume-mounts", specVolumeMountsStep("executor")},
	{"operator-pod-spec", operatorPodSpecStep("executor")},
	{"monitoring", monitoringStep("executor")},
	{"batch-scheduler", batchSchedulerStep},
}

func (b *build) set(k, v string) { b.conf[k] = v }

func (b *build) pod(role string) *SparkPodSpec {
	if role == "driver" {
		return &b.spec.Driver.SparkPodSpec
	}
	return &b.spec.Executor.SparkPodSpec
}

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
	return sparkContainer(pod, DriverContainerName)
}

// roleContainer is Spark's container of a driver pod or of the executor template.
func roleContainer(pod *corev1.Pod, role string) *corev1.Container {
	if role == SparkRoleExecutor {
		return sparkContainer(pod, ExecutorContainerName)
	}
	return sparkContainer(pod, DriverContainerName)
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
