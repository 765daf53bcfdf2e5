package render

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kindling-dev/kindling/k8s/job"
)

// A feature is one Spark feature, in the shape of Spark's feature steps. Each part may be nil.
// Adding a feature is a new file that defines one, its test, and one line in features.
type feature struct {
	name string
	// validate checks the feature's part of a defaulted spec, before anything renders.
	validate func(s *job.JobSpec) field.ErrorList
	// conf adds what the feature's spec fields stand for in Spark's own keys, as the
	// operator's spark-submit arguments would. Every feature's conf runs before any pod.
	conf func(b *build)
	// driver changes the driver pod, and may add to the conf (Spark's
	// getAdditionalPodSystemProperties), to the ConfigMap's files or to the extra objects.
	driver func(b *build, pod *corev1.Pod) error
	// executor changes the executor pod template. A Spark driver starts each executor from
	// the template and then runs KubernetesExecutorBuilder's steps from spark.properties,
	// appending without looking for duplicates: so the template carries only what Spark
	// cannot express through its conf, which the operator's webhook would otherwise add.
	executor func(b *build, pod *corev1.Pod) error
	// objects are extra objects the attempt needs, made once both pods are rendered.
	objects func(b *build) ([]*unstructured.Unstructured, error)
}

// features are KubernetesDriverBuilder's steps in its order, then what the operator's
// webhook adds from SparkPodSpec, then monitoring, the batch scheduler and dynamic allocation.
var features = []feature{
	basic,
	credentials,
	driverService,
	secrets,
	envSecrets,
	volumes,
	command,
	hadoopConf,
	kerberos,
	podTemplate,
	localDirs,
	confFile,
	operatorPodSpec,
	monitoring,
	sparkMetrics,
	batchScheduler,
	dynamicAllocation,
}

// Validate checks a defaulted spec: the job's own rules (job.Check), then each feature's.
// It returns a *job.ValidationError listing every problem, or nil.
func Validate(s *job.JobSpec) error { return job.Errors(Problems(s)) }

// StrictProblems are Problems plus every setting that holds a secret in plain text
// (SecretSettings): `--strict`.
func StrictProblems(s *job.JobSpec) field.ErrorList {
	return append(Problems(s), SecretSettings(s)...)
}

// Problems are Validate's problems as a list, to join with others (job.ReadLenient's).
func Problems(s *job.JobSpec) field.ErrorList {
	errs := job.Check(s)
	for _, f := range features {
		if f.validate != nil {
			errs = append(errs, f.validate(s)...)
		}
	}
	return errs
}
