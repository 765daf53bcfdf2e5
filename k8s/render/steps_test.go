package render

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kindling-dev/kindling/k8s/job"
)

func testBuild(t *testing.T, edit func(*job.JobSpec)) *build {
	t.Helper()
	spec := minimalSpec()
	if edit != nil {
		edit(spec)
	}
	job.Default(spec)
	b, err := newBuild(spec, Options{WorkflowID: "wf", Attempt: 1})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func runStep(t *testing.T, f feature, b *build) *corev1.Pod {
	t.Helper()
	pod := &corev1.Pod{}
	if err := f.driver(b, pod); err != nil {
		t.Fatal(err)
	}
	return pod
}

func envOf(c corev1.Container, name string) *corev1.EnvVar {
	for i := range c.Env {
		if c.Env[i].Name == name {
			return &c.Env[i]
		}
	}
	return nil
}

func findStep(name string) feature {
	for _, f := range features {
		if f.name == name {
			return f
		}
	}
	panic(name)
}

// Each step is a no-op when its feature is off.
func TestStepsOffAreNoOps(t *testing.T) {
	for _, name := range []string{"secrets", "env-secrets", "volumes", "hadoop-conf", "kerberos", "batch-scheduler", "monitoring"} {
		pod := runStep(t, findStep(name), testBuild(t, nil))
		if len(pod.Spec.Volumes) > 0 || (len(pod.Spec.Containers) > 0 && (len(pod.Spec.Containers[0].Env) > 0 || len(pod.Spec.Containers[0].VolumeMounts) > 0)) || pod.Spec.SchedulerName != "" {
			t.Errorf("step %s changed a pod with its feature off: %+v", name, pod.Spec)
		}
	}
}

// MountSecretsFeatureStepSuite: secret <name> mounts at its path in volume <name>-volume.
func TestSecretsStep(t *testing.T) {
	b := testBuild(t, func(s *job.JobSpec) {
		s.SparkConf = map[string]string{"spark.kubernetes.driver.secrets.secret1": "/var/secret1", "spark.kubernetes.driver.secrets.secret2": "/var/secret2"}
	})
	pod := runStep(t, findStep("secrets"), b)
	if len(pod.Spec.Volumes) != 2 || pod.Spec.Volumes[0].Name != "secret1-volume" || pod.Spec.Volumes[0].Secret.SecretName != "secret1" {
		t.Errorf("volumes = %+v", pod.Spec.Volumes)
	}
	if m := pod.Spec.Containers[0].VolumeMounts; len(m) != 2 || m[1].MountPath != "/var/secret2" {
		t.Errorf("mounts = %+v", m)
	}
}

// EnvSecretsFeatureStepSuite: ENV=secret:key becomes a secretKeyRef.
func TestEnvSecretsStep(t *testing.T) {
	b := testBuild(t, func(s *job.JobSpec) {
		s.Driver.EnvSecretKeyRefs = map[string]job.NameKey{"MY_PASS": {Name: "mysecret", Key: "pass"}}
	})
	pod := runStep(t, findStep("env-secrets"), b)
	e := envOf(pod.Spec.Containers[0], "MY_PASS")
	if e == nil || e.ValueFrom.SecretKeyRef.Name != "mysecret" || e.ValueFrom.SecretKeyRef.Key != "pass" {
		t.Errorf("env = %+v", pod.Spec.Containers[0].Env)
	}
}

// MountVolumesFeatureStepSuite: Spark's volume keys become volumes and mounts.
func TestVolumesStepFromConf(t *testing.T) {
	b := testBuild(t, func(s *job.JobSpec) {
		s.SparkConf = map[string]string{
			"spark.kubernetes.driver.volumes.hostPath.data.mount.path":     "/data",
			"spark.kubernetes.driver.volumes.hostPath.data.mount.readOnly": "true",
			"spark.kubernetes.driver.volumes.hostPath.data.options.path":   "/host/data",
			"spark.kubernetes.driver.volumes.emptyDir.tmp.mount.path":      "/tmp",
			"spark.kubernetes.driver.volumes.emptyDir.tmp.options.medium":  "Memory",
		}
	})
	pod := runStep(t, findStep("volumes"), b)
	if len(pod.Spec.Volumes) != 2 || pod.Spec.Volumes[1].HostPath == nil || pod.Spec.Volumes[1].HostPath.Path != "/host/data" || pod.Spec.Volumes[0].EmptyDir.Medium != corev1.StorageMediumMemory {
		t.Errorf("volumes = %+v", pod.Spec.Volumes)
	}
	if m := pod.Spec.Containers[0].VolumeMounts[1]; !m.ReadOnly || m.MountPath != "/data" {
		t.Errorf("mount = %+v", m)
	}
}

func TestOnDemandClaimCreatesPVC(t *testing.T) {
	b := testBuild(t, func(s *job.JobSpec) {
		s.SparkConf = map[string]string{
			"spark.kubernetes.driver.volumes.persistentVolumeClaim.data.mount.path":        "/data",
			"spark.kubernetes.driver.volumes.persistentVolumeClaim.data.options.claimName": "OnDemand",
			"spark.kubernetes.driver.volumes.persistentVolumeClaim.data.options.sizeLimit": "10Gi",
		}
	})
	pod := &corev1.Pod{}
	pod.Name = b.names.DriverPod
	if err := findStep("volumes").driver(b, pod); err != nil {
		t.Fatal(err)
	}
	if len(b.extra) != 1 || b.extra[0].GetKind() != "PersistentVolumeClaim" || pod.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != b.extra[0].GetName() {
		t.Errorf("on-demand claim not created: extra=%v volumes=%+v", b.extra, pod.Spec.Volumes)
	}
}

// LocalDirsFeatureStepSuite: default dir, tmpfs, and user-mounted spark-local-dir-*.
func TestLocalDirsStep(t *testing.T) {
	b := testBuild(t, func(s *job.JobSpec) {
		s.SparkConf = map[string]string{"spark.local.dir": "/a,/b", "spark.kubernetes.local.dirs.tmpfs": "true"}
	})
	pod := runStep(t, findStep("local-dirs"), b)
	if len(pod.Spec.Volumes) != 2 || pod.Spec.Volumes[1].Name != "spark-local-dir-2" || pod.Spec.Volumes[1].EmptyDir.Medium != corev1.StorageMediumMemory {
		t.Errorf("volumes = %+v", pod.Spec.Volumes)
	}
	if e := envOf(pod.Spec.Containers[0], "SPARK_LOCAL_DIRS"); e == nil || e.Value != "/a,/b" {
		t.Errorf("SPARK_LOCAL_DIRS = %+v", e)
	}
	user := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: job.DriverContainerName, VolumeMounts: mounts("spark-local-dir-1:/datadir")}}}}
	if err := localDirsStep(testBuild(t, nil), user); err != nil {
		t.Fatal(err)
	}
	if len(user.Spec.Volumes) != 0 || envOf(user.Spec.Containers[0], "SPARK_LOCAL_DIRS").Value != "/datadir" {
		t.Errorf("user local dir not used: %+v", user.Spec)
	}
}

// BasicDriverFeatureStepSuite: {{APP_ID}} is substituted in labels and annotations.
func TestBasicDriverSubstitutesAppID(t *testing.T) {
	b := testBuild(t, func(s *job.JobSpec) {
		s.SparkConf = map[string]string{"spark.kubernetes.driver.label.app": "{{APP_ID}}", "spark.kubernetes.driver.annotation.link": "http://ui/{{APP_ID}}"}
	})
	pod := runStep(t, findStep("basic"), b)
	if pod.Labels["app"] != b.names.AppID || pod.Annotations["link"] != "http://ui/"+b.names.AppID {
		t.Errorf("labels %v annotations %v", pod.Labels, pod.Annotations)
	}
	c := pod.Spec.Containers[0]
	var ports []string
	for _, p := range c.Ports {
		ports = append(ports, p.Name+":"+itoa(p.ContainerPort))
	}
	if !slices.Equal(ports, []string{"driver-rpc-port:7078", "blockmanager:7079", "spark-ui:4040"}) {
		t.Errorf("ports = %v", ports)
	}
	if e := envOf(c, "SPARK_DRIVER_BIND_ADDRESS"); e == nil || e.ValueFrom.FieldRef.FieldPath != "status.podIP" {
		t.Errorf("SPARK_DRIVER_BIND_ADDRESS = %+v", e)
	}
	if pod.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy = %s", pod.Spec.RestartPolicy)
	}
}

// DriverServiceFeatureStepSuite: headless service, driver labels as selector, host in the conf.
func TestDriverServiceStep(t *testing.T) {
	b := testBuild(t, func(s *job.JobSpec) { s.SparkConf = map[string]string{"spark.driver.port": "9000"} })
	runStep(t, findStep("service"), b)
	svc := b.service
	if svc.Spec.ClusterIP != "None" || svc.Spec.Selector[job.LabelSparkAppID] != b.names.AppID || svc.Spec.Selector[job.LabelSparkRole] != "driver" {
		t.Errorf("service = %+v", svc.Spec)
	}
	if svc.Spec.Ports[0].Port != 9000 || b.conf["spark.driver.port"] != "9000" {
		t.Errorf("driver port not honoured: %+v", svc.Spec.Ports)
	}
	if want := b.names.Service + ".default.svc"; b.conf["spark.driver.host"] != want {
		t.Errorf("spark.driver.host = %q, want %q", b.conf["spark.driver.host"], want)
	}
}

// DriverCommandFeatureStepSuite: the entrypoint's arguments.
func TestDriverCommandStep(t *testing.T) {
	b := testBuild(t, func(s *job.JobSpec) { s.Arguments = []string{"10"}; s.ProxyUser = "alice" })
	pod := runStep(t, findStep("command"), b)
	want := []string{"driver", "--proxy-user", "alice", "--properties-file", "/opt/spark/conf/spark.properties",
		"--class", "org.apache.spark.examples.SparkPi", "local:///opt/spark/examples/jars/spark-examples.jar", "10"}
	if got := pod.Spec.Containers[0].Args; !slices.Equal(got, want) {
		t.Errorf("args = %v\nwant  %v", got, want)
	}
	py := testBuild(t, func(s *job.JobSpec) { s.Type = job.TypePython; s.MainApplicationFile = "local:///app/main.py" })
	pod = runStep(t, findStep("command"), py)
	if pod.Spec.Containers[0].Args[4] != "org.apache.spark.deploy.PythonRunner" || py.conf["spark.submit.pyFiles"] != "" {
		t.Errorf("python args %v pyFiles %q", pod.Spec.Containers[0].Args, py.conf["spark.submit.pyFiles"])
	}
}

func TestHadoopAndKerberosSteps(t *testing.T) {
	b := testBuild(t, func(s *job.JobSpec) {
		s.HadoopConfigMap = "hadoop-conf"
		s.SparkConf = map[string]string{"spark.kubernetes.kerberos.krb5.configMapName": "krb5", "spark.kubernetes.kerberos.tokenSecret.name": "tok", "spark.kubernetes.kerberos.tokenSecret.itemKey": "dt"}
	})
	pod := runStep(t, findStep("hadoop-conf"), b)
	if e := envOf(pod.Spec.Containers[0], "HADOOP_CONF_DIR"); e == nil || e.Value != "/opt/hadoop/conf" {
		t.Errorf("HADOOP_CONF_DIR = %+v", e)
	}
	pod = runStep(t, findStep("kerberos"), b)
	if e := envOf(pod.Spec.Containers[0], "HADOOP_TOKEN_FILE_LOCATION"); e == nil || e.Value != "/mnt/secrets/hadoop-credentials/dt" || len(pod.Spec.Volumes) != 2 {
		t.Errorf("kerberos pod = %+v", pod.Spec)
	}
}

func TestSparkPropertiesCarryWhatTheDriverNeeds(t *testing.T) {
	spec := minimalSpec()
	spec.Deps.Jars = []string{"https://repo/x.jar"}
	spec.Deps.Packages = []string{"org.a:b:1"}
	spec.HadoopConf = map[string]string{"fs.s3a.endpoint": "http://minio"}
	r := mustRender(t, spec)
	props := r.ConfigMap.Data[SparkPropertiesFile]
	for _, want := range []string{
		"spark.app.id=" + r.AppID, "spark.kubernetes.namespace=default", "spark.kubernetes.driver.pod.name=" + r.Names.DriverPod,
		"spark.driver.host=" + r.Names.Service + ".default.svc", "spark.executor.instances=1",
		// SparkSubmit.prepareSubmitEnvironment: --jars, then the primary resource.
		"spark.jars=https://repo/x.jar,local:///opt/spark/examples/jars/spark-examples.jar",
		"spark.jars.packages=org.a:b:1", "spark.hadoop.fs.s3a.endpoint=http://minio", "spark.kubernetes.executor.podNamePrefix=" + r.Names.ExecutorPrefix,
		"spark.kubernetes.submitInDriver=true",
		"spark.kubernetes.executor.podTemplateFile=/opt/spark/pod-template/pod-spec-template.yml",
	} {
		if !containsLine(props, want) {
			t.Errorf("spark.properties lacks %q:\n%s", want, props)
		}
	}
}

func containsLine(text, line string) bool {
	for _, l := range splitLines(text) {
		if l == line {
			return true
		}
	}
	return false
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := range s {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

// DriverServiceFeatureStepSuite: a service name over 63 characters falls back to spark-<id>-driver-svc.
func TestServiceNameFallback(t *testing.T) {
	appID := job.AppID("wf", 1)
	if got := serviceName("short", appID); got != "short-driver-svc" {
		t.Errorf("serviceName(short) = %q", got)
	}
	long := strings.Repeat("a", 60)
	got := serviceName(long, appID)
	if !regexp.MustCompile(`^spark-[0-9a-f]{16}-driver-svc$`).MatchString(got) {
		t.Errorf("long prefix gives %q, want spark-<id>-driver-svc", got)
	}
}
