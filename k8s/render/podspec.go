package render

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/kindling-dev/kindling/k8s/job"
)

// operatorPodSpec is what the operator's webhook adds to both pods from SparkPodSpec.
var operatorPodSpec = feature{
	name:     "operator-pod-spec",
	validate: validatePodSpec,
	conf: func(b *build) {
		if b.spec.SparkConfigMap != "" {
			// Spark's executor step sets SPARK_CONF_DIR itself, after the template's env;
			// spark.executorEnv comes after it, as the operator's webhook does on executors.
			b.set("spark.executorEnv.SPARK_CONF_DIR", sparkConfigMapDir)
		}
	},
	driver:   operatorPodSpecStep(job.SparkRoleDriver),
	executor: operatorPodSpecStep(job.SparkRoleExecutor),
}

const (
	sparkConfigMapDir    = "/etc/spark/conf"
	sparkConfigMapVolume = "spark-configmap-volume"
)

// operatorPodSpecStep puts on the pod what the operator's webhook adds from SparkPodSpec and
// Spark's conf cannot express: env, envFrom, ConfigMaps, the sparkConfigMap, GPU, affinity,
// tolerations, security contexts, sidecars, init containers, host network, DNS, host aliases,
// priority, grace period, lifecycle and ports. Node selectors and the scheduler name are not
// here: they travel as spark.kubernetes.<role>.* keys (podConf), which Spark applies.
func operatorPodSpecStep(role string) func(*build, *corev1.Pod) error {
	return func(b *build, pod *corev1.Pod) error {
		p := b.pod(role)
		c := roleContainer(pod, role)
		for _, e := range p.Env {
			setEnv(c, e)
		}
		c.EnvFrom = append(c.EnvFrom, p.EnvFrom...)
		for _, cm := range p.ConfigMaps {
			vol := configMapVolumeName(cm.Name)
			addVolume(pod, corev1.Volume{Name: vol, VolumeSource: corev1.VolumeSource{
				ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: cm.Name}}}})
			addMount(c, corev1.VolumeMount{Name: vol, MountPath: cm.Path})
		}
		if name := b.spec.SparkConfigMap; name != "" {
			addVolume(pod, corev1.Volume{Name: sparkConfigMapVolume, VolumeSource: corev1.VolumeSource{
				ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: name}}}})
			addMount(c, corev1.VolumeMount{Name: sparkConfigMapVolume, MountPath: sparkConfigMapDir})
			// sparkpod_defaulter.go addSparkConfigMap points SPARK_CONF_DIR at it, so Spark reads
			// the user's log4j2.properties and friends. The driver's spark.properties is read
			// by --properties-file wherever SPARK_CONF_DIR points.
			if role == job.SparkRoleDriver {
				setEnv(c, corev1.EnvVar{Name: "SPARK_CONF_DIR", Value: sparkConfigMapDir})
			}
		}
		if g := p.GPU; g != nil {
			// Spark's BasicExecutorFeatureStep adds its memory and CPU to the template's
			// resources, so a GPU limit in the template reaches every executor, as the
			// operator's webhook would put it there.
			q := *resource.NewQuantity(g.Quantity, resource.DecimalSI)
			if c.Resources.Limits == nil {
				c.Resources.Limits = corev1.ResourceList{}
			}
			c.Resources.Limits[corev1.ResourceName(g.Name)] = q
		}
		if p.Affinity != nil {
			pod.Spec.Affinity = p.Affinity.DeepCopy()
		}
		pod.Spec.Tolerations = append(pod.Spec.Tolerations, p.Tolerations...)
		if p.PodSecurityContext != nil {
			pod.Spec.SecurityContext = p.PodSecurityContext.DeepCopy()
		}
		if p.SecurityContext != nil {
			c.SecurityContext = p.SecurityContext.DeepCopy()
		}
		if p.HostNetwork != nil && *p.HostNetwork {
			// sparkpod_defaulter.go addHostNetwork: with the node's network the pod must still
			// resolve cluster names (executors reach the driver by its service's name).
			pod.Spec.HostNetwork = true
			pod.Spec.DNSPolicy = corev1.DNSClusterFirstWithHostNet
		}
		if p.DNSConfig != nil {
			pod.Spec.DNSConfig = p.DNSConfig.DeepCopy()
		}
		pod.Spec.HostAliases = append(pod.Spec.HostAliases, p.HostAliases...)
		if p.TerminationGracePeriodSeconds != nil {
			pod.Spec.TerminationGracePeriodSeconds = ptr.To(*p.TerminationGracePeriodSeconds)
		}
		if p.ShareProcessNamespace != nil {
			pod.Spec.ShareProcessNamespace = ptr.To(*p.ShareProcessNamespace)
		}
		if p.RuntimeClassName != nil {
			pod.Spec.RuntimeClassName = ptr.To(*p.RuntimeClassName)
		}
		var ports []job.Port
		var lifecycle *corev1.Lifecycle
		var priority string
		if role == "driver" {
			ports, lifecycle, priority = b.spec.Driver.Ports, b.spec.Driver.Lifecycle, b.spec.Driver.PriorityClassName
		} else {
			ports, lifecycle, priority = b.spec.Executor.Ports, b.spec.Executor.Lifecycle, b.spec.Executor.PriorityClassName
		}
		for _, port := range ports {
			proto := corev1.Protocol(port.Protocol)
			if proto == "" {
				proto = corev1.ProtocolTCP
			}
			c.Ports = append(c.Ports, corev1.ContainerPort{Name: port.Name, ContainerPort: port.ContainerPort, Protocol: proto})
		}
		if lifecycle != nil {
			c.Lifecycle = lifecycle.DeepCopy()
		}
		if priority != "" {
			pod.Spec.PriorityClassName = priority
		}
		// Last: appending may move the containers, and c points into them.
		pod.Spec.Containers = append(pod.Spec.Containers, p.Sidecars...)
		pod.Spec.InitContainers = append(pod.Spec.InitContainers, p.InitContainers...)
		return nil
	}
}

func validatePodSpec(s *job.JobSpec) field.ErrorList {
	var errs field.ErrorList
	add := func(p *field.Path, format string, args ...any) { errs = append(errs, job.Invalid(p, format, args...)) }
	if s.SparkConfigMap != "" {
		for _, msg := range validation.IsDNS1123Subdomain(s.SparkConfigMap) {
			add(job.SpecPath.Child("sparkConfigMap"), "must be a ConfigMap name: %s", msg)
		}
	}
	for _, role := range []string{job.SparkRoleDriver, job.SparkRoleExecutor} {
		at, p := job.RolePath(role), rolePod(s, role)
		if g := p.GPU; g != nil {
			if g.Name == "" {
				add(at.Child("gpu", "name"), "is required, e.g. nvidia.com/gpu")
			} else if msgs := validation.IsQualifiedName(g.Name); len(msgs) > 0 {
				add(at.Child("gpu", "name"), "must be a resource name: %s", strings.Join(msgs, "; "))
			}
			if g.Quantity < 1 {
				add(at.Child("gpu", "quantity"), "must be 1 or more, got %d", g.Quantity)
			}
		}
		for i, cm := range p.ConfigMaps {
			for _, msg := range validation.IsDNS1123Subdomain(cm.Name) {
				add(at.Child("configMaps").Index(i).Child("name"), "must be a ConfigMap name: %s", msg)
			}
		}
		ports := s.Driver.Ports
		if role == job.SparkRoleExecutor {
			ports = s.Executor.Ports
		}
		for _, port := range ports {
			pp := at.Child("ports").Key(port.Name)
			for _, msg := range validation.IsValidPortName(port.Name) {
				add(pp.Child("name"), "%s", msg)
			}
			if port.ContainerPort < 1 || port.ContainerPort > 65535 {
				add(pp.Child("containerPort"), "must be between 1 and 65535, got %d", port.ContainerPort)
			}
			switch port.Protocol {
			case "", "TCP", "UDP", "SCTP":
			default:
				add(pp.Child("protocol"), "must be TCP, UDP or SCTP; got %q", port.Protocol)
			}
		}
	}
	return errs
}

// configMapVolumeName is the volume of a spec.<role>.configMaps entry, as the operator's
// sparkpod_defaulter.go getConfigMapVolumeName names it: <name>-vol, or, when the ConfigMap's
// name has dots or is too long for a volume (a DNS label), the name with dashes for dots, cut,
// and a hash of the full name so two names stay apart.
func configMapVolumeName(name string) string {
	preferred := name + configMapVolumeSuffix
	if len(preferred) <= job.MaxNameLen && !strings.Contains(preferred, ".") {
		return preferred
	}
	sum := sha256.Sum256([]byte(name))
	suffix := "-" + hex.EncodeToString(sum[:])[:8] + configMapVolumeSuffix
	sanitized := strings.ReplaceAll(name, ".", "-")
	if max := job.MaxNameLen - len(suffix); len(sanitized) > max {
		sanitized = sanitized[:max]
	}
	return strings.TrimRight(sanitized, "-") + suffix
}
