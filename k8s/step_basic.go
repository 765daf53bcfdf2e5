package k8s

import (
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// sparkLabels are the labels Spark puts on the driver (KubernetesDriverConf.labels):
// custom labels from spark.kubernetes.<role>.label.*, with {{APP_ID}} substituted, under
// Spark's preset labels.
func (b *build) sparkLabels(role string) map[string]string {
	out := map[string]string{}
	for k, v := range prefixed(b.conf, "spark.kubernetes."+role+".label.") {
		out[k] = substituteIDs(v, b.names.AppID, "") // the driver has no executor id
	}
	out[LabelSparkAppID] = b.names.AppID
	out[LabelSparkRole] = role
	if n := sanitizeLabelValue(b.spec.Name); n != "" {
		out[LabelSparkAppName] = n
	}
	if v := b.spec.SparkVersion; v != "" {
		out[LabelSparkVersion] = v
	}
	return out
}

func (b *build) annotations(role, execID string) map[string]string {
	out := map[string]string{}
	for k, v := range prefixed(b.conf, "spark.kubernetes."+role+".annotation.") {
		out[k] = substituteIDs(v, b.names.AppID, execID)
	}
	return out
}

func (b *build) image(role string) string {
	return confOr(b.conf, "spark.kubernetes."+role+".container.image", b.conf["spark.kubernetes.container.image"])
}

func (b *build) nodeSelector(role string) map[string]string {
	out := prefixed(b.conf, "spark.kubernetes.node.selector.")
	for k, v := range prefixed(b.conf, "spark.kubernetes."+role+".node.selector.") {
		out[k] = v
	}
	return out
}

func (b *build) imagePullSecrets() []corev1.LocalObjectReference {
	var out []corev1.LocalObjectReference
	for _, s := range splitList(b.conf["spark.kubernetes.container.image.pullSecrets"]) {
		out = append(out, corev1.LocalObjectReference{Name: s})
	}
	return out
}

func (b *build) port(key string, def int) int32 {
	if n, err := strconv.Atoi(b.conf[key]); err == nil {
		return int32(n)
	}
	return int32(def)
}

func (b *build) driverPorts() (rpc, blockManager, ui int32) {
	rpc = b.port("spark.driver.port", DefaultDriverPort)
	blockManager = b.port("spark.driver.blockManager.port", int(b.port("spark.blockManager.port", DefaultBlockManagerPort)))
	ui = b.port("spark.ui.port", DefaultUIPort)
	return
}

func (b *build) sparkUser() string {
	if u := b.spec.ProxyUser; u != "" {
		return u
	}
	return "spark"
}

// cpuRequest is spark.kubernetes.<role>.request.cores, else spark.<role>.cores, else 1.
func (b *build) cpu(role string) (request resource.Quantity, limit *resource.Quantity, err error) {
	req := confOr(b.conf, "spark.kubernetes."+role+".request.cores", confOr(b.conf, "spark."+role+".cores", "1"))
	if request, err = parseCores(req); err != nil {
		return request, nil, fmt.Errorf("%s CPU request: %w", role, err)
	}
	if l, ok := b.conf["spark.kubernetes."+role+".limit.cores"]; ok {
		q, err := parseCores(l)
		if err != nil {
			return request, nil, fmt.Errorf("%s CPU limit: %w", role, err)
		}
		limit = &q
	}
	return canonical(request), canonicalPtr(limit), nil
}

// canonical re-parses a quantity from its canonical string so a rendered object compares equal
// to what the API server returns.
func canonical(q resource.Quantity) resource.Quantity { return resource.MustParse(q.String()) }

func canonicalPtr(q *resource.Quantity) *resource.Quantity {
	if q == nil {
		return nil
	}
	c := canonical(*q)
	return &c
}

func memoryQuantity(miB int64) resource.Quantity {
	return resource.MustParse(strconv.FormatInt(miB, 10) + "Mi")
}

// basicDriverStep is BasicDriverFeatureStep: name, container, ports, env, resources, labels,
// annotations, restart policy, node selectors, pull secrets, scheduler name.
func basicDriverStep(b *build, pod *corev1.Pod) error {
	c := sparkContainer(pod, DriverContainerName)
	c.Image = b.image("driver")
	c.ImagePullPolicy = corev1.PullPolicy(confOr(b.conf, "spark.kubernetes.container.image.pullPolicy", string(corev1.PullIfNotPresent)))
	rpc, bm, ui := b.driverPorts()
	c.Ports = append(c.Ports,
		corev1.ContainerPort{Name: "driver-rpc-port", ContainerPort: rpc, Protocol: corev1.ProtocolTCP},
		corev1.ContainerPort{Name: "blockmanager", ContainerPort: bm, Protocol: corev1.ProtocolTCP},
		corev1.ContainerPort{Name: "spark-ui", ContainerPort: ui, Protocol: corev1.ProtocolTCP},
	)
	setEnv(c, corev1.EnvVar{Name: "SPARK_USER", Value: b.sparkUser()})
	setEnv(c, corev1.EnvVar{Name: "SPARK_APPLICATION_ID", Value: b.names.AppID})
	driverEnv := prefixed(b.conf, "spark.kubernetes.driverEnv.")
	for _, k := range sortedKeys(driverEnv) {
		setEnv(c, corev1.EnvVar{Name: k, Value: driverEnv[k]})
	}
	setEnv(c, corev1.EnvVar{Name: "SPARK_DRIVER_BIND_ADDRESS", ValueFrom: &corev1.EnvVarSource{
		FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "status.podIP"}}})

	req, limit, err := b.cpu("driver")
	if err != nil {
		return err
	}
	mem := memoryQuantity(b.driver.TotalMiB)
	// The template's requests and limits give way to Spark's, as in Spark.
	c.Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: req, corev1.ResourceMemory: mem}
	c.Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: mem}
	if limit != nil {
		c.Resources.Limits[corev1.ResourceCPU] = *limit
	}

	pod.Name = b.names.DriverPod
	mergeMap(&pod.Labels, b.sparkLabels(SparkRoleDriver))
	mergeMap(&pod.Annotations, b.annotations("driver", ""))
	pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	mergeMap(&pod.Spec.NodeSelector, b.nodeSelector("driver"))
	pod.Spec.ImagePullSecrets = append(pod.Spec.ImagePullSecrets, b.imagePullSecrets()...)
	if s := b.conf["spark.kubernetes.scheduler.name"]; s != "" {
		pod.Spec.SchedulerName = s
	}
	if s := b.conf["spark.kubernetes.driver.scheduler.name"]; s != "" {
		pod.Spec.SchedulerName = s
	}

	b.set("spark.kubernetes.driver.pod.name", b.names.DriverPod)
	b.set("spark.app.id", b.names.AppID)
	b.set("spark.kubernetes.submitInDriver", "true")
	b.set(confMemoryOverheadFactor, formatFactor(b.driverDefaultFactor()))
	return nil
}

func (b *build) driverDefaultFactor() float64 {
	_, f, _ := driverMemory(b.spec.effectiveConf(), b.nonJVM(), 0)
	return f
}

func (b *build) nonJVM() bool { return b.spec.Type == TypePython || b.spec.Type == TypeR }

// driverCredentialsStep is DriverKubernetesCredentialsFeatureStep: the service account.
func driverCredentialsStep(b *build, pod *corev1.Pod) error {
	if sa := b.conf["spark.kubernetes.authenticate.driver.serviceAccountName"]; sa != "" {
		pod.Spec.ServiceAccountName = sa
	}
	return nil
}
