package render

import (
	"path"
	"strings"

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
// machine: a keytab already in the driver (local://, in the image or mounted from a Secret
// with spec.driver.secrets), a krb5.conf ConfigMap and an existing delegation-token Secret.
// Only names and paths enter the job's history, never a keytab's bytes.
var kerberos = feature{
	name:     "kerberos",
	validate: validateKerberos,
	driver:   kerberosStep,
}

// validateKerberos is KerberosConfDriverFeatureStep's checks, plus what Kindling cannot do:
// upload a file from the submitting machine.
func validateKerberos(s *job.JobSpec) field.ErrorList {
	c := s.SparkConf
	var errs field.ErrorList
	at := func(k string) *field.Path { return job.SparkConfPath.Key(k) }
	keytab, principal := c["spark.kerberos.keytab"], c["spark.kerberos.principal"]
	switch {
	case keytab != "" && !strings.HasPrefix(keytab, "local:"):
		// spark-submit uploads such a keytab into a Secret; the worker has no such file.
		errs = append(errs, job.Invalid(at("spark.kerberos.keytab"), "%q is a file on the submitting machine, which Kindling cannot upload: "+
			"put the keytab in a Secret, mount it with spec.driver.secrets (e.g. path /mnt/keytab) and give local:///mnt/keytab/<file>; "+
			"or bake it into the image as local:///path; or give the driver delegation tokens with spark.kubernetes.kerberos.tokenSecret.name and .itemKey", keytab))
	case (keytab == "") != (principal == ""):
		// KerberosConfDriverFeatureStep: "If a Kerberos principal is specified you must also specify a Kerberos keytab" and the reverse.
		errs = append(errs, job.Invalid(at("spark.kerberos.principal"), "spark.kerberos.principal and spark.kerberos.keytab go together: set both or neither"))
	}
	if c["spark.kubernetes.kerberos.krb5.path"] != "" {
		errs = append(errs, job.Invalid(at("spark.kubernetes.kerberos.krb5.path"), "is a file on the submitting machine, which Kindling cannot upload: "+
			"put krb5.conf in a ConfigMap (kubectl create configmap krb5 --from-file=krb5.conf) and give spark.kubernetes.kerberos.krb5.configMapName"))
	}
	if (c["spark.kubernetes.kerberos.tokenSecret.name"] == "") != (c["spark.kubernetes.kerberos.tokenSecret.itemKey"] == "") {
		errs = append(errs, job.Invalid(at("spark.kubernetes.kerberos.tokenSecret.name"), "spark.kubernetes.kerberos.tokenSecret.name and .itemKey go together: set both or neither"))
	}
	return errs
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
