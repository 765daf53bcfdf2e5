package k8s

import (
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// ExecutorIDPlaceholder stands in the executor template for the id the driver gives each executor.
const ExecutorIDPlaceholder = "{{EXECUTOR_ID}}"

// basicExecutorStep is BasicExecutorFeatureStep for the template: everything but the executor
// id, which the driver fills in (label spark-exec-id, env SPARK_EXECUTOR_ID).
func basicExecutorStep(b *build, pod *corev1.Pod) error {
	mergeMap(&pod.Labels, b.sparkLabels(SparkRoleExecutor))
	pod.Labels[LabelSparkExecID] = ExecutorIDPlaceholder
	pod.Labels["spark-exec-resourceprofile-id"] = "0"
	mergeMap(&pod.Annotations, b.annotations("executor", ExecutorIDPlaceholder))
	c := sparkContainer(pod, ExecutorContainerName)
	c.Image = b.image("executor")
	c.ImagePullPolicy = corev1.PullPolicy(confOr(b.conf, "spark.kubernetes.container.image.pullPolicy", string(corev1.PullIfNotPresent)))
	c.Args = []string{"executor"}
	rpc, _, _ := b.driverPorts()
	env := []corev1.EnvVar{
		{Name: "SPARK_USER", Value: b.sparkUser()},
		{Name: "SPARK_DRIVER_URL", Value: "spark://CoarseGrainedScheduler@" + b.names.Service + "." + b.spec.Namespace + ".svc:" + itoa(rpc)},
		{Name: "SPARK_EXECUTOR_CORES", Value: confOr(b.conf, "spark.executor.cores", "1")},
		{Name: "SPARK_EXECUTOR_MEMORY", Value: confOr(b.conf, "spark.executor.memory", defaultMemory)},
		{Name: "SPARK_APPLICATION_ID", Value: b.names.AppID},
		{Name: "SPARK_CONF_DIR", Value: SparkConfDir},
		{Name: "SPARK_EXECUTOR_ID", Value: ExecutorIDPlaceholder},
		{Name: "SPARK_RESOURCE_PROFILE_ID", Value: "0"},
	}
	execEnv := prefixed(b.conf, "spark.executorEnv.")
	for _, k := range sortedKeys(execEnv) {
		env = append(env, corev1.EnvVar{Name: k, Value: execEnv[k]})
	}
	for i, opt := range strings.Fields(b.conf["spark.executor.extraJavaOptions"]) {
		env = append(env, corev1.EnvVar{Name: "SPARK_JAVA_OPT_" + itoa(i), Value: opt})
	}
	env = append(env,
		corev1.EnvVar{Name: "SPARK_EXECUTOR_POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "status.podIP"}}},
		corev1.EnvVar{Name: "SPARK_EXECUTOR_POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}},
	)
	for _, e := range env {
		setEnv(c, e)
	}
	req, limit, err := b.cpu("executor")
	if err != nil {
		return err
	}
	mem := memoryQuantity(b.exec.TotalMiB)
	c.Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: req, corev1.ResourceMemory: mem}
	c.Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: mem}
	if limit != nil {
		c.Resources.Limits[corev1.ResourceCPU] = *limit
	}
	pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	mergeMap(&pod.Spec.NodeSelector, b.nodeSelector("executor"))
	pod.Spec.ImagePullSecrets = append(pod.Spec.ImagePullSecrets, b.imagePullSecrets()...)
	if s := confOr(b.conf, "spark.kubernetes.executor.scheduler.name", b.conf["spark.kubernetes.scheduler.name"]); s != "" {
		pod.Spec.SchedulerName = s
	}
	_ = path.Join
	return nil
}

// executorCredentialsStep is ExecutorKubernetesCredentialsFeatureStep: the executor's service
// account, else the driver's.
func executorCredentialsStep(b *build, pod *corev1.Pod) error {
	sa := confOr(b.conf, "spark.kubernetes.authenticate.executor.serviceAccountName", b.conf["spark.kubernetes.authenticate.driver.serviceAccountName"])
	if sa != "" && pod.Spec.ServiceAccountName == "" {
		pod.Spec.ServiceAccountName = sa
	}
	return nil
}
