package render

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/kindling-dev/kindling/k8s/job"
)

// credentials is DriverKubernetesCredentialsFeatureStep: the service account. Executors get
// theirs from spark.kubernetes.authenticate.executor.serviceAccountName.
var credentials = feature{
	name: "credentials",
	conf: func(b *build) {
		for _, role := range []string{job.SparkRoleDriver, job.SparkRoleExecutor} {
			if sa := b.pod(role).ServiceAccount; sa != "" {
				b.set("spark.kubernetes.authenticate."+role+".serviceAccountName", sa)
			}
		}
	},
	driver: func(b *build, pod *corev1.Pod) error {
		if sa := b.conf["spark.kubernetes.authenticate.driver.serviceAccountName"]; sa != "" {
			pod.Spec.ServiceAccountName = sa
		}
		return nil
	},
}
