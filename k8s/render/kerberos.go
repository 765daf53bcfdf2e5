package render

import (
	"path"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kindling-dev/kindling/k8s/job"
)

const (
	krb5Volume  = "krb5-file"
	krb5Path    = "/etc/krb5.conf"
	tokenVolume = "hadoop-secret"
	tokenDir    = "/mnt/secrets/hadoop-credentials"
)

// kerberos is KerberosConfDriverFeatureStep for what needs no upload from the submitting
// machine: a krb5.conf ConfigMap and an existing delegation-token Secret.
var kerberos = feature{
	name: "kerberos",
	validate: func(s *job.JobSpec) field.ErrorList {
		return refuseOwned(s.SparkConf, map[string]string{
			// spark-submit uploads the keytab from the submitting machine into a Secret; Kindling
			// submits from a worker that has no such file, so the setting would be silently lost.
			"spark.kerberos.keytab": "is not supported: Kindling cannot upload a keytab from the submitting machine; " +
				"give the driver a delegation token with spark.kubernetes.kerberos.tokenSecret.name and .itemKey, or mount the keytab with spec.driver.secrets",
		})
	},
	driver: kerberosStep,
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
