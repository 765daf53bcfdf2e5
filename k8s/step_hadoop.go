package k8s

import (
	"path"

	corev1 "k8s.io/api/core/v1"
)

const (
	hadoopConfDir    = "/opt/hadoop/conf"
	hadoopConfVolume = "hadoop-properties"
	krb5Volume       = "krb5-file"
	krb5Path         = "/etc/krb5.conf"
	tokenVolume      = "hadoop-secret"
	tokenDir         = "/mnt/secrets/hadoop-credentials"
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

// kerberosStep is KerberosConfDriverFeatureStep for what needs no upload: a krb5.conf
// ConfigMap and an existing delegation-token Secret.
func kerberosStep(b *build, pod *corev1.Pod) error {
	c := mainContainer(pod)
	if cm := b.conf["spark.kubernetes.kerberos.krb5.configMapName"]; cm != "" {
		addVolume(pod, corev1.Volume{Name: krb5Volume, VolumeSource: corev1.VolumeSource{
			ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: cm}}}})
		addMount(c, corev1.VolumeMount{Name: krb5Volume, MountPath: krb5Path, SubPath: "krb5.conf"})
	}
	secret, key := b.conf["spark.kubernetes.kerberos.tokenSecret.name"], b.conf["spark.kubernetes.kerberos.tokenSecret.itemKey"]
	if secret != "" && key != "" {
		addVolume(pod, corev1.Volume{Name: tokenVolume, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: secret}}})
		addMount(c, corev1.VolumeMount{Name: tokenVolume, MountPath: tokenDir})
		setEnv(c, corev1.EnvVar{Name: "HADOOP_TOKEN_FILE_LOCATION", Value: path.Join(tokenDir, key)})
	}
	return nil
}
