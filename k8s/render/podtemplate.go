package render

import (
	"path"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kindling-dev/kindling/k8s/job"
)

// podTemplate is PodTemplateConfigMapStep: the executor pod template, which Kindling renders
// itself (the executor features), shipped to the driver in the conf ConfigMap.
var podTemplate = feature{
	name: "pod-template",
	validate: func(s *job.JobSpec) field.ErrorList {
		return refuseOwned(s.SparkConf, map[string]string{
			"spark.kubernetes.executor.podNamePrefix":          "is set by Kindling: executor names are derived from the workflow and attempt",
			"spark.kubernetes.executor.podTemplateFile":        "is set by Kindling; use spec.executor.template",
			"spark.kubernetes.driver.podTemplateFile":          "is not supported; use spec.driver.template",
			"spark.kubernetes.driver.podTemplateContainerName": "is not supported; name the template's Spark container spark-kubernetes-driver or put it first",
		})
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
