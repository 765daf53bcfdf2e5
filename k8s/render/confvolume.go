package render

import (
	corev1 "k8s.io/api/core/v1"
)

// confVolume mounts the conf ConfigMap's spark.properties in the driver, as Spark's Client
// does with its spark-drv-…-conf-map.
var confFile = feature{name: "conf-volume", driver: confVolumeStep}

// confVolumeStep mounts spark.properties where the driver reads it, as Spark's Client does
// with its spark-drv-…-conf-map.
func confVolumeStep(b *build, pod *corev1.Pod) error {
	c := mainContainer(pod)
	addVolume(pod, corev1.Volume{Name: SparkConfVolume, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: b.names.ConfigMap},
		Items:                []corev1.KeyToPath{{Key: SparkPropertiesFile, Path: SparkPropertiesFile}},
	}}})
	addMount(c, corev1.VolumeMount{Name: SparkConfVolume, MountPath: SparkConfDir})
	setEnv(c, corev1.EnvVar{Name: "SPARK_CONF_DIR", Value: SparkConfDir})
	return nil
}
