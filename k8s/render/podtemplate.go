package render

import (
	"path"
	"regexp"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kindling-dev/kindling/k8s/job"
)

// podTemplate is PodTemplateConfigMapStep: the executor pod template, which Kindling renders
// itself (the executor features), shipped to the driver in the conf ConfigMap.
var podTemplate = feature{
	name: "pod-template",
	validate: func(s *job.JobSpec) field.ErrorList {
		errs := refuseOwned(s.SparkConf, map[string]string{
			"spark.kubernetes.executor.podTemplateFile":        "is set by Kindling; use spec.executor.template",
			"spark.kubernetes.driver.podTemplateFile":          "is not supported; use spec.driver.template",
			"spark.kubernetes.driver.podTemplateContainerName": "is not supported; name the template's Spark container spark-kubernetes-driver or put it first",
		})
		if p, ok := s.SparkConf[confExecutorPrefix]; ok && !validExecutorPrefix(p) {
			// Config.scala's message for KUBERNETES_EXECUTOR_POD_NAME_PREFIX.
			errs = append(errs, job.Invalid(job.SparkConfPath.Key(confExecutorPrefix), "'%s' in spark.kubernetes.executor.podNamePrefix is invalid. must conform "+
				"https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#dns-label-names and the value length <= 47", p))
		}
		return errs
	},
	driver: podTemplateStep,
}

// podTemplateStep is PodTemplateConfigMapStep: the executor template, from the conf ConfigMap,
// where the driver reads it.
func podTemplateStep(b *build, pod *corev1.Pod) error {
	c := mainContainer(pod)
	addVolume(pod, corev1.Volume{Name: PodTemplateVolume, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: b.names.ConfigMap},
		Items:                []corev1.KeyToPath{{Key: PodTemplateFile, Path: PodTemplateFile}},
	}}})
	addMount(c, corev1.VolumeMount{Name: PodTemplateVolume, MountPath: PodTemplateDir})
	b.set("spark.kubernetes.executor.podTemplateFile", path.Join(PodTemplateDir, PodTemplateFile))
	b.set("spark.kubernetes.executor.podTemplateContainerName", job.ExecutorContainerName)
	b.set("spark.kubernetes.executor.podNamePrefix", b.names.ExecutorPrefix)
	return nil
}

const confExecutorPrefix = "spark.kubernetes.executor.podNamePrefix"

var dns1123Labels = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// validExecutorPrefix is Config.scala's isValidExecutorPodNamePrefix: room for
// "-exec-<Int.MaxValue>" within 63 characters, and DNS-1123 labels.
func validExecutorPrefix(p string) bool {
	return len(p)+len("-exec-2147483647") <= job.MaxNameLen && dns1123Labels.MatchString(p)
}
