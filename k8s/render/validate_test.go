package render

import (
	"errors"
	"strings"
	"testing"

	"k8s.io/utils/ptr"

	"github.com/kindling-dev/kindling/k8s/job"
)

func problemsOf(t *testing.T, spec *job.JobSpec) map[string]string {
	t.Helper()
	job.Default(spec)
	err := Validate(spec)
	out := map[string]string{}
	if err == nil {
		return out
	}
	var ve *job.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Validate returned %T, want *ValidationError", err)
	}
	for _, p := range ve.Problems {
		out[p.Field] += p.Rule
	}
	return out
}

func TestValidateRules(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*job.JobSpec)
		field string
		rule  string // substring of the rule
	}{
		{"client mode", func(s *job.JobSpec) { s.Mode = job.ModeClient }, "spec.mode", "client mode runs the driver outside a job (a notebook): start a session for that pod"},
		{"bad name", func(s *job.JobSpec) { s.Name = "Spark_Pi" }, "metadata.name", "DNS-1123"},
		{"k8s memory syntax", func(s *job.JobSpec) { s.Driver.Memory = "1Gi" }, "spec.driver.memory", "Spark does not know"},
		{"fractional memory", func(s *job.JobSpec) { s.Executor.Memory = "1.5g" }, "spec.executor.memory", "fractional"},
		{"bad core request", func(s *job.JobSpec) { s.Driver.CoreRequest = "half" }, "spec.driver.coreRequest", "not a CPU quantity"},
		{"limit below request", func(s *job.JobSpec) { s.Driver.CoreRequest = "2"; s.Driver.CoreLimit = "1500m" }, "spec.driver.coreLimit", "less than the CPU request"},
		{"limit below cores", func(s *job.JobSpec) { s.Executor.Cores = ptr.To(int32(2)); s.Executor.CoreLimit = "1" }, "spec.executor.coreLimit", "less than the CPU request (2 cores)"},
		{"restart policy", func(s *job.JobSpec) { s.RestartPolicy.Type = "Sometimes" }, "spec.restartPolicy.type", "Never, OnFailure or Always"},
		{"reserved driver label", func(s *job.JobSpec) { s.Driver.Labels = map[string]string{"spark-app-selector": "x"} }, "spec.driver.labels[spark-app-selector]",
			"Custom driver labels cannot contain spark-app-selector as it is reserved for Spark."},
		{"reserved executor label in conf", func(s *job.JobSpec) {
			s.SparkConf = map[string]string{"spark.kubernetes.executor.label.spark-exec-id": "1"}
		},
			"spec.sparkConf[spark.kubernetes.executor.label.spark-exec-id]", "Custom executor labels cannot contain spark-exec-id as it is reserved for Spark."},
		{"Kindling's annotation copied from a kept driver", func(s *job.JobSpec) {
			s.Driver.Annotations = map[string]string{"kindling.dev/delete-after": "2026-11-26T05:00:00Z"}
		}, "spec.driver.annotations[kindling.dev/delete-after]", "annotation kindling.dev/delete-after is reserved for Kindling"},
		{"Kindling's annotation in conf", func(s *job.JobSpec) {
			s.SparkConf = map[string]string{"spark.kubernetes.executor.annotation.kindling.dev/delete-after": "2026-11-26T05:00:00Z"}
		}, "spec.sparkConf[spark.kubernetes.executor.annotation.kindling.dev/delete-after]", "reserved for Kindling"},
		{"keytab", func(s *job.JobSpec) {
			s.SparkConf = map[string]string{"spark.kerberos.keytab": "/etc/user.keytab", "spark.kerberos.principal": "user@EXAMPLE.COM"}
		}, "spec.sparkConf[spark.kerberos.keytab]", `"/etc/user.keytab" is a file on the submitting machine, which Kindling cannot upload: put the keytab in a Secret`},
		{"keytab without principal", func(s *job.JobSpec) {
			s.SparkConf = map[string]string{"spark.kerberos.keytab": "local:///etc/user.keytab"}
		}, "spec.sparkConf[spark.kerberos.principal]", "set both or neither"},
		{"krb5 path", func(s *job.JobSpec) {
			s.SparkConf = map[string]string{"spark.kubernetes.kerberos.krb5.path": "/etc/krb5.conf"}
		}, "spec.sparkConf[spark.kubernetes.kerberos.krb5.path]", "give spark.kubernetes.kerberos.krb5.configMapName"},
		{"bind address", func(s *job.JobSpec) { s.SparkConf = map[string]string{"spark.driver.bindAddress": "0.0.0.0"} }, "spec.sparkConf[spark.driver.bindAddress]",
			"spark.driver.bindAddress is not supported in Kubernetes mode, as the driver's bind address is managed and set to the driver pod's IP address."},
		{"duplicate mount path", func(s *job.JobSpec) {
			s.Volumes = vols("a", "b")
			s.Driver.VolumeMounts = mounts("a:/data", "b:/data")
		}, "spec.driver.volumeMounts[1].mountPath", "Found duplicated mountPath: '/data'"},
		{"mount without volume", func(s *job.JobSpec) { s.Executor.VolumeMounts = mounts("ghost:/g") }, "spec.executor.volumeMounts[0].name", `volume "ghost" is not declared`},
		{"secret path clash", func(s *job.JobSpec) {
			s.Driver.Secrets = []job.SecretInfo{{Name: "one", Path: "/etc/s"}, {Name: "two", Path: "/etc/s/"}}
		}, "spec.driver.secrets[1].path", "Found duplicated mountPath: '/etc/s'"},
		{"secret over spark conf", func(s *job.JobSpec) { s.Driver.Secrets = []job.SecretInfo{{Name: "one", Path: "/opt/spark/conf"}} }, "spec.driver.secrets[0].path", "duplicated mountPath"},
		{"executor secret over spark conf", func(s *job.JobSpec) { s.Executor.Secrets = []job.SecretInfo{{Name: "one", Path: "/opt/spark/conf"}} },
			"spec.executor.secrets[0].path", "Found duplicated mountPath: '/opt/spark/conf' (also used by (Spark) spark-conf-volume-exec)"},
		{"file scheme", func(s *job.JobSpec) { s.MainApplicationFile = "file:///tmp/app.jar" }, "spec.mainApplicationFile", "cannot upload"},
		{"dep scheme", func(s *job.JobSpec) { s.Deps.Jars = []string{"/opt/x.jar"} }, "spec.deps.jars[0]", "cannot upload"},
		{"long secret name", func(s *job.JobSpec) {
			s.Executor.Secrets = []job.SecretInfo{{Name: strings.Repeat("s", 60), Path: "/s"}}
		}, "spec.executor.secrets[0].name", "more than 63"},
		{"batch scheduler", func(s *job.JobSpec) { s.BatchScheduler = "slurm" }, "spec.batchScheduler", "kube-scheduler, volcano or yunikorn"},
		{"ui options", func(s *job.JobSpec) { s.SparkUIOptions = &job.SparkUIConfiguration{} }, "spec.sparkUIOptions", "not supported yet"},
		{"owned conf", func(s *job.JobSpec) { s.SparkConf = map[string]string{"spark.app.id": "mine"} }, "spec.sparkConf[spark.app.id]", "set by Kindling"},
		{"integer cores in conf", func(s *job.JobSpec) { s.SparkConf = map[string]string{"spark.executor.cores": "0.5"} }, "spec.sparkConf[spark.executor.cores]", "whole number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := minimalSpec()
			tc.edit(spec)
			got := problemsOf(t, spec)
			if !strings.Contains(got[tc.field], tc.rule) {
				t.Errorf("want a problem at %s containing %q; got %v", tc.field, tc.rule, got)
			}
		})
	}
}

func TestValidateCollectsEveryProblem(t *testing.T) {
	spec := minimalSpec()
	spec.Name = "Bad Name"
	spec.Mode = job.ModeClient
	spec.Driver.Memory = "lots"
	spec.RestartPolicy.Type = "Maybe"
	got := problemsOf(t, spec)
	for _, f := range []string{"metadata.name", "spec.mode", "spec.driver.memory", "spec.restartPolicy.type"} {
		if got[f] == "" {
			t.Errorf("no problem reported at %s; got %v", f, got)
		}
	}
	err := Validate(spec)
	if lines := strings.Count(err.Error(), "\n"); lines < 4 {
		t.Errorf("Error() should list each problem on its own line:\n%v", err)
	}
	if _, rerr := Attempt(spec, Options{WorkflowID: "wf"}); !errors.As(rerr, new(*job.ValidationError)) {
		t.Errorf("Render of an invalid spec returned %v, want the validation error", rerr)
	}
}

func TestFixturesAreValid(t *testing.T) {
	if got := problemsOf(t, minimalSpec()); len(got) > 0 {
		t.Errorf("minimal spec has problems: %v", got)
	}
}
