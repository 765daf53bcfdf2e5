package render

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kindling-dev/kindling/k8s/job"
)

func TestSecretSettingsAreNamedWithWhatToUseInstead(t *testing.T) {
	s := &job.JobSpec{}
	s.SparkConf = map[string]string{
		"spark.hadoop.fs.s3a.secret.key":                          "AKIA…",
		"spark.hadoop.fs.s3a.access.key":                          "id",
		"spark.authenticate.secret":                               "x",
		"spark.kubernetes.driver.secretKeyRef.DB_PASSWORD":        "db:password", // a reference
		"spark.kubernetes.driver.secrets.s3":                      "/etc/s3",     // a volume
		"spark.hadoop.fs.s3a.aws.credentials.provider":            "com.amazonaws.auth.EnvironmentVariableCredentialsProvider",
		"spark.kubernetes.authenticate.submission.oauthTokenFile": "/var/token", // a path
		"spark.executor.memory":                                   "2g",
		"spark.ssl.keyPassword":                                   "", // empty: nothing stored
	}
	s.HadoopConf = map[string]string{"fs.azure.account.key.x.blob.core.windows.net": "k", "fs.gs.auth.service.account.private.key": "pk"}
	s.Driver.Env = []corev1.EnvVar{{Name: "API_TOKEN", Value: "t"}, {Name: "DB_PASSWORD", ValueFrom: &corev1.EnvVarSource{}}, {Name: "HOME", Value: "/tmp"}}
	s.Executor.EnvVars = map[string]string{"AWS_SECRET_ACCESS_KEY": "s"}
	var got []string
	for _, e := range SecretSettings(s) {
		got = append(got, e.Field)
		if !strings.Contains(e.Detail, "plain text") || !strings.Contains(e.Detail, "Kubernetes Secret") {
			t.Errorf("%s: %s", e.Field, e.Detail)
		}
	}
	want := []string{
		"spec.sparkConf[spark.authenticate.secret]",
		"spec.sparkConf[spark.hadoop.fs.s3a.access.key]",
		"spec.sparkConf[spark.hadoop.fs.s3a.secret.key]",
		"spec.hadoopConf[fs.azure.account.key.x.blob.core.windows.net]",
		"spec.hadoopConf[fs.gs.auth.service.account.private.key]",
		"spec.driver.env[0].value",
		"spec.executor.envVars[AWS_SECRET_ACCESS_KEY]",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("secret-looking settings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if w := Warnings(s); len(w) != len(want) {
		t.Errorf("Warnings carries %d of them, want %d", len(w), len(want))
	}
}
