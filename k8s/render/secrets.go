package render

import (
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kindling-dev/kindling/k8s/job"
)

// secrets is MountSecretsFeatureStep, fed by spec.<role>.secrets as well as Spark's own
// spark.kubernetes.<role>.secrets.* keys. A GCP service-account or Hadoop delegation-token
// secret also sets the variable that points at its file, as the operator does.
var secrets = feature{
	name:     "secrets",
	validate: validateSecrets,
	conf:     secretsConf,
	driver:   secretsStep(job.SparkRoleDriver),
}

// envSecrets is EnvSecretsFeatureStep, fed by spec.<role>.envSecretKeyRefs as well as
// spark.kubernetes.<role>.secretKeyRef.* keys.
var envSecrets = feature{
	name:     "env-secrets",
	validate: validateEnvSecrets,
	conf: func(b *build) {
		for _, role := range []string{job.SparkRoleDriver, job.SparkRoleExecutor} {
			for k, v := range b.pod(role).EnvSecretKeyRefs {
				b.set("spark.kubernetes."+role+".secretKeyRef."+k, v.Name+":"+v.Key)
			}
		}
	},
	driver: envSecretsStep(job.SparkRoleDriver),
}

func secretsConf(b *build) {
	for _, role := range []string{job.SparkRoleDriver, job.SparkRoleExecutor} {
		envPrefix, envVars := "spark.kubernetes.driverEnv.", b.spec.Driver.EnvVars
		if role == job.SparkRoleExecutor {
			envPrefix, envVars = "spark.executorEnv.", b.spec.Executor.EnvVars
		}
		for _, s := range b.pod(role).Secrets {
			b.set("spark.kubernetes."+role+".secrets."+s.Name, s.Path)
			env, file := "", ""
			switch s.Type {
			case job.SecretTypeGCPServiceAccount:
				env, file = "GOOGLE_APPLICATION_CREDENTIALS", "key.json"
			case job.SecretTypeHadoopDelegationToken:
				env, file = "HADOOP_TOKEN_FILE_LOCATION", "hadoop.token"
			}
			// spec.<role>.envVars name the variable explicitly, and win.
			if _, explicit := envVars[env]; env != "" && !explicit {
				b.set(envPrefix+env, path.Join(s.Path, file))
			}
		}
	}
}

func validateSecrets(s *job.JobSpec) field.ErrorList {
	var errs field.ErrorList
	for _, role := range []string{job.SparkRoleDriver, job.SparkRoleExecutor} {
		at := job.RolePath(role).Child("secrets")
		for i, sec := range rolePod(s, role).Secrets {
			if n := len(sec.Name + secretVolumeSuffix); n > job.MaxNameLen {
				errs = append(errs, job.Invalid(at.Index(i).Child("name"), "secret name is too long: its volume %s%s would have %d characters, more than 63", sec.Name, secretVolumeSuffix, n))
			}
			switch sec.Type {
			case "", job.SecretTypeGeneric, job.SecretTypeGCPServiceAccount, job.SecretTypeHadoopDelegationToken:
			default:
				errs = append(errs, job.Invalid(at.Index(i).Child("secretType"), "must be Generic, GCPServiceAccount or HadoopDelegationToken; got %q", sec.Type))
			}
		}
	}
	return errs
}

func validateEnvSecrets(s *job.JobSpec) field.ErrorList {
	var errs field.ErrorList
	for _, role := range []string{job.SparkRoleDriver, job.SparkRoleExecutor} {
		refs := rolePod(s, role).EnvSecretKeyRefs
		for _, k := range sortedKeys(refs) {
			for _, msg := range validation.IsEnvVarName(k) {
				errs = append(errs, job.Invalid(job.RolePath(role).Child("envSecretKeyRefs").Key(k), "%s", msg))
			}
		}
	}
	return errs
}

const (
	secretVolumeSuffix    = "-volume"
	configMapVolumeSuffix = "-vol"
)

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
