package render

import (
	"regexp"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kindling-dev/kindling/k8s/job"
)

// A setting whose name says it holds a secret …
var secretName = regexp.MustCompile(`(?i)(password|passwd|secret|token|credential|access[._-]?key|account[._-]?key|private[._-]?key|api[._-]?key)`)

// … unless the name says it holds a reference to one (a Secret's key, a file, a class).
var secretReference = regexp.MustCompile(`(?i)(secretKeyRef|\.secrets\.|secretName|(file|path|dir|provider|class|enabled|type|mode)$)`)

// SecretSettings lists the settings of s whose names look like they hold a secret (password,
// secret, token, access key, …) and whose value is written in the spec: sparkConf, hadoopConf
// and the roles' environment values. Each problem says where the value ends up in plain text
// and what to use instead. A warning by default; an error with --strict.
func SecretSettings(s *job.JobSpec) field.ErrorList {
	var errs field.ErrorList
	check := func(at *field.Path, name, value, instead string) {
		if value == "" || !secretName.MatchString(name) || secretReference.MatchString(name) {
			return
		}
		errs = append(errs, job.Invalid(at, "looks like a secret, and its value would be stored in plain text: in the job's "+
			"Temporal history (unless payload encryption is on), in the driver's ConfigMap and pod spec, and wherever the "+
			"manifest is kept; put it in a Kubernetes Secret and %s", instead))
	}
	const viaEnv = "use spec.driver.envSecretKeyRefs and spec.executor.envSecretKeyRefs (or mount it with spec.driver.secrets / spec.executor.secrets)"
	for _, k := range sortedKeys(s.SparkConf) {
		check(job.SparkConfPath.Key(k), k, s.SparkConf[k], viaEnv+", or spark.kubernetes.driver.secretKeyRef.*")
	}
	for _, k := range sortedKeys(s.HadoopConf) {
		check(job.SpecPath.Child("hadoopConf").Key(k), k, s.HadoopConf[k], viaEnv+", or a hadoopConfigMap with a credential provider")
	}
	for _, r := range []struct {
		name string
		pod  *job.SparkPodSpec
	}{{"driver", &s.Driver.SparkPodSpec}, {"executor", &s.Executor.SparkPodSpec}} {
		at := job.RolePath(r.name)
		for i, e := range r.pod.Env {
			check(at.Child("env").Index(i).Child("value"), e.Name, e.Value, "use valueFrom.secretKeyRef, or spec."+r.name+".envSecretKeyRefs")
		}
		for _, k := range sortedKeys(r.pod.EnvVars) {
			check(at.Child("envVars").Key(k), k, r.pod.EnvVars[k], "use spec."+r.name+".envSecretKeyRefs")
		}
	}
	return errs
}
