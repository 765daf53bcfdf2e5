package render

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kindling-dev/kindling/k8s/job"
)

// hadoopConf is HadoopConfDriverFeatureStep: spec.hadoopConf as spark.hadoop.* keys, and
// spec.hadoopConfigMap mounted where Hadoop reads it.
var hadoopConf = feature{
	name: "hadoop-conf",
	conf: func(b *build) {
		for k, v := range b.spec.HadoopConf {
			b.set("spark.hadoop."+k, v)
		}
	},
	validate: func(s *job.JobSpec) field.ErrorList {
		var errs field.ErrorList
		if s.HadoopConfigMap != "" {
			for _, msg := range validation.IsDNS1123Subdomain(s.HadoopConfigMap) {
				errs = append(errs, job.Invalid(job.SpecPath.Child("hadoopConfigMap"), "must be a ConfigMap name: %s", msg))
			}
		}
		return errs
	},
	driver: hadoopConfStep,
}

const (
	hadoopConfDir    = "/opt/hadoop/conf"
	hadoopConfVolume = "hadoop-properties"
)

// hadoopConfStep is HadoopConfDriverFeatureStep: spec.hadoopConfigMap (the operator's name for
// spark.kubernetes.hadoop.configMapName) mounted at /opt/hadoop/conf with HADOOP_CONF_DIR.
func hadoopConfStep(b *build, pod *corev1.Pod) error {
	name := confOr(b.conf, "spark.kubernetes.hadoop.configMapName", b.spec.HadoopConfigMap)
	if name == "" {
		return nil
	}
	c := mainContainer(pod)
	addVolume(pod, corev1.Volume{Name: hadoopConfVolume, VolumeSource: corev1.VolumeSource{
		ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: name}}}})
	addMount(c, corev1.VolumeMount{Name: hadoopConfVolume, MountPath: hadoopConfDir})
	setEnv(c, corev1.EnvVar{Name: "HADOOP_CONF_DIR", Value: hadoopConfDir})
	// HadoopConfDriverFeatureStep records the ConfigMap for HadoopConfExecutorFeatureStep,
	// which mounts it on every executor.
	b.set("spark.kubernetes.executor.hadoopConfigMapName", name)
	return nil
}
