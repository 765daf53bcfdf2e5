package k8s

import (
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

const (
	secretVolumeSuffix    = "-volume"
	configMapVolumeSuffix = "-vol"
)

func itoa[T ~int32 | ~int64 | ~int](n T) string { return strconv.FormatInt(int64(n), 10) }

// secretsStep is MountSecretsFeatureStep: spark.kubernetes.<role>.secrets.<name>=<path>
// mounts secret <name> at <path> in volume <name>-volume.
func secretsStep(role string) func(*build, *corev1.Pod) error {
	return func(b *build, pod *corev1.Pod) error {
		secrets := prefixed(b.conf, "spark.kubernetes."+role+".secrets.")
		c := roleContainer(pod, role)
		for _, name := range sortedKeys(secrets) {
			vol := name + secretVolumeSuffix
			addVolume(pod, corev1.Volume{Name: vol, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: name}}})
			addMount(c, corev1.VolumeMount{Name: vol, MountPath: secrets[name]})
		}
		return nil
	}
}

// envSecretsStep is EnvSecretsFeatureStep: spark.kubernetes.<role>.secretKeyRef.<ENV>=<secret>:<key>.
func envSecretsStep(role string) func(*build, *corev1.Pod) error {
	return func(b *build, pod *corev1.Pod) error {
		refs := prefixed(b.conf, "spark.kubernetes."+role+".secretKeyRef.")
		c := roleContainer(pod, role)
		for _, env := range sortedKeys(refs) {
			name, key, _ := strings.Cut(refs[env], ":")
			setEnv(c, corev1.EnvVar{Name: env, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key}}})
		}
		return nil
	}
}
