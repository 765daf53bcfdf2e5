package render

import (
	"slices"
	"testing"

	"k8s.io/utils/ptr"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kindling-dev/kindling/k8s/job"
)

// rendered is one job's objects as a user inspects them: the driver pod, the executor
// template and the spark.properties a Spark driver builds executors from.
type rendered struct {
	r        *Rendered
	driver   *corev1.Pod
	template *corev1.Pod
	props    map[string]string
}

func renderJob(t *testing.T, edit func(*job.JobSpec)) rendered {
	t.Helper()
	spec := minimalSpec()
	edit(spec)
	r := mustRender(t, spec)
	return rendered{r: r, driver: r.DriverPod, template: executorTemplate(t, r), props: readProperties(t, r.ConfigMap.Data[SparkPropertiesFile])}
}

func (j rendered) wantProps(t *testing.T, want map[string]string) {
	t.Helper()
	for _, k := range sortedKeys(want) {
		if got, ok := j.props[k]; !ok || got != want[k] {
			t.Errorf("spark.properties: %s = %q (set %v), want %q", k, got, ok, want[k])
		}
	}
}

func container(pod *corev1.Pod, name string) *corev1.Container {
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == name {
			return &pod.Spec.Containers[i]
		}
	}
	return nil
}

func volumeNames(pod *corev1.Pod) []string {
	var out []string
	for _, v := range pod.Spec.Volumes {
		out = append(out, v.Name)
	}
	slices.Sort(out)
	return out
}

// Service accounts: the driver pod runs as spec.driver.serviceAccount; executors get theirs
// from the conf (Spark falls back to the driver's), never from the template.
func TestCredentials(t *testing.T) {
	j := renderJob(t, func(s *job.JobSpec) {
		s.Driver.ServiceAccount = "spark-driver"
		s.Executor.ServiceAccount = "spark-exec"
	})
	if got := j.driver.Spec.ServiceAccountName; got != "spark-driver" {
		t.Errorf("driver pod runs as %q, want spark-driver", got)
	}
	j.wantProps(t, map[string]string{
		"spark.kubernetes.authenticate.driver.serviceAccountName":   "spark-driver",
		"spark.kubernetes.authenticate.executor.serviceAccountName": "spark-exec",
	})
	if sa := j.template.Spec.ServiceAccountName; sa != "" {
		t.Errorf("executor template names service account %q; Spark's credentials step sets it from the conf", sa)
	}
	only := renderJob(t, func(s *job.JobSpec) { s.Driver.ServiceAccount = "spark-driver" })
	if _, ok := only.props["spark.kubernetes.authenticate.executor.serviceAccountName"]; ok || only.template.Spec.ServiceAccountName != "" {
		t.Error("without spec.executor.serviceAccount executors must inherit the driver's through Spark, not through Kindling")
	}
}

// spec.<role>.template is where the steps start: its metadata, volumes and other containers
// survive, and Spark's container is the one named for Spark.
func TestPodTemplates(t *testing.T) {
	tmpl := func(sparkName string) *corev1.PodTemplateSpec {
		return &corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"tier": "batch"}, Annotations: map[string]string{"note": "kept"}},
			Spec: corev1.PodSpec{
				Volumes: []corev1.Volume{{Name: "cache", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
				Containers: []corev1.Container{
					{Name: "proxy", Image: "envoy"},
					{Name: sparkName, VolumeMounts: []corev1.VolumeMount{{Name: "cache", MountPath: "/cache"}}},
				},
			},
		}
	}
	j := renderJob(t, func(s *job.JobSpec) {
		s.Driver.Template = tmpl(job.DriverContainerName)
		s.Executor.Template = tmpl(job.ExecutorContainerName)
	})
	for role, pod := range map[string]*corev1.Pod{"driver pod": j.driver, "executor template": j.template} {
		if pod.Labels["tier"] != "batch" || pod.Annotations["note"] != "kept" {
			t.Errorf("%s lost the template's metadata: %v %v", role, pod.Labels, pod.Annotations)
		}
		if p := container(pod, "proxy"); p == nil || p.Image != "envoy" || len(p.Args) > 0 {
			t.Errorf("%s: the template's other container was changed: %+v", role, p)
		}
		if !slices.Contains(volumeNames(pod), "cache") {
			t.Errorf("%s lost the template's volume: %v", role, volumeNames(pod))
		}
	}
	if c := container(j.driver, job.DriverContainerName); c == nil || c.Image != "apache/spark:4.0.4" || c.VolumeMounts[0].Name != "cache" {
		t.Errorf("the driver's Spark container is not the template's %s: %+v", job.DriverContainerName, c)
	}
	if c := container(j.template, job.ExecutorContainerName); c == nil || c.Image != "" || len(c.Args) > 0 || len(c.Env) > 0 {
		t.Errorf("the executor template's Spark container should hold only the template's own settings: %+v", c)
	}
	j.wantProps(t, map[string]string{"spark.kubernetes.executor.podTemplateContainerName": job.ExecutorContainerName})
}

// The operator's pod fields Spark's conf cannot express land on the driver pod and in the
// executor template; the ones it can travel as conf keys instead.
func TestOperatorFields(t *testing.T) {
	grace := int64(30)
	tol := corev1.Toleration{Key: "spot", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}
	j := renderJob(t, func(s *job.JobSpec) {
		for _, p := range []*job.SparkPodSpec{&s.Driver.SparkPodSpec, &s.Executor.SparkPodSpec} {
			p.Tolerations = []corev1.Toleration{tol}
			p.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{}}
			p.PodSecurityContext = &corev1.PodSecurityContext{FSGroup: ptr.To(int64(185))}
			p.SecurityContext = &corev1.SecurityContext{RunAsNonRoot: ptr.To(true)}
			p.Sidecars = []corev1.Container{{Name: "shipper", Image: "fluent-bit"}}
			p.InitContainers = []corev1.Container{{Name: "init", Image: "busybox"}}
			p.HostNetwork = ptr.To(true)
			p.DNSConfig = &corev1.PodDNSConfig{Nameservers: []string{"10.0.0.10"}}
			p.HostAliases = []corev1.HostAlias{{IP: "10.0.0.1", Hostnames: []string{"hdfs"}}}
			p.TerminationGracePeriodSeconds = &grace
			p.EnvFrom = []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "env-cm"}}}}
			p.ConfigMaps = []job.NamePath{{Name: "extra", Path: "/etc/extra"}}
			p.GPU = &job.GPUSpec{Name: "nvidia.com/gpu", Quantity: 2}
			p.NodeSelector = map[string]string{"pool": "spark"}
			p.SchedulerName = "custom"
		}
		s.Driver.PriorityClassName, s.Executor.PriorityClassName = "high", "high"
		s.Executor.Ports = []job.Port{{Name: "debug", ContainerPort: 5005}}
		s.Executor.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"sleep", "5"}}}}
	})
	for role, pod := range map[string]*corev1.Pod{"driver pod": j.driver, "executor template": j.template} {
		name := job.DriverContainerName
		if pod == j.template {
			name = job.ExecutorContainerName
		}
		c := container(pod, name)
		switch {
		case len(pod.Spec.Tolerations) != 1 || pod.Spec.Tolerations[0] != tol:
			t.Errorf("%s tolerations = %v, want the spot toleration", role, pod.Spec.Tolerations)
		case pod.Spec.Affinity == nil || pod.Spec.SecurityContext == nil || *pod.Spec.SecurityContext.FSGroup != 185:
			t.Errorf("%s lacks affinity or pod security context", role)
		case c == nil || c.SecurityContext == nil || !*c.SecurityContext.RunAsNonRoot:
			t.Errorf("%s: Spark container lacks the security context", role)
		case container(pod, "shipper") == nil || len(pod.Spec.InitContainers) != 1:
			t.Errorf("%s lacks the sidecar or init container", role)
		case !pod.Spec.HostNetwork || pod.Spec.DNSConfig == nil || len(pod.Spec.HostAliases) != 1 || *pod.Spec.TerminationGracePeriodSeconds != 30:
			t.Errorf("%s lacks host network, DNS config, host aliases or grace period", role)
		case pod.Spec.PriorityClassName != "high":
			t.Errorf("%s priority class = %q", role, pod.Spec.PriorityClassName)
		case len(c.EnvFrom) != 1 || !slices.Contains(volumeNames(pod), "extra-vol"):
			t.Errorf("%s lacks envFrom or the extra ConfigMap volume", role)
		case c.Resources.Limits.Name("nvidia.com/gpu", resource.DecimalSI).Value() != 2:
			t.Errorf("%s GPU limit = %v", role, c.Resources.Limits)
		}
	}
	if got := j.driver.Spec.NodeSelector["pool"]; got != "spark" || j.driver.Spec.SchedulerName != "custom" {
		t.Errorf("driver pod nodeSelector %v schedulerName %q", j.driver.Spec.NodeSelector, j.driver.Spec.SchedulerName)
	}
	if len(j.template.Spec.NodeSelector) > 0 || j.template.Spec.SchedulerName != "" {
		t.Errorf("executor template holds nodeSelector %v / schedulerName %q that Spark sets from the conf", j.template.Spec.NodeSelector, j.template.Spec.SchedulerName)
	}
	j.wantProps(t, map[string]string{"spark.kubernetes.executor.node.selector.pool": "spark", "spark.kubernetes.executor.scheduler.name": "custom"})
	ec := container(j.template, job.ExecutorContainerName)
	if len(ec.Ports) != 1 || ec.Ports[0].ContainerPort != 5005 || ec.Lifecycle == nil {
		t.Errorf("executor ports %v lifecycle %v", ec.Ports, ec.Lifecycle)
	}
	if len(ec.Resources.Limits) != 1 || len(ec.Resources.Requests) != 0 {
		t.Errorf("executor template resources = %v; memory and CPU are Spark's, from the conf", ec.Resources)
	}
}

// Monitoring: executors are scraped when exposeExecutorMetrics is on, through annotations
// and java options in the conf and the metrics files and port in the template.
func TestMonitoring(t *testing.T) {
	j := renderJob(t, func(s *job.JobSpec) {
		s.Monitoring = &job.MonitoringSpec{ExposeDriverMetrics: true, ExposeExecutorMetrics: true,
			Prometheus: &job.PrometheusSpec{JmxExporterJar: "/prometheus/jmx.jar", Port: ptr.To(int32(9100))}}
	})
	j.wantProps(t, map[string]string{
		"spark.kubernetes.executor.annotation.prometheus.io/scrape": "true",
		"spark.kubernetes.executor.annotation.prometheus.io/port":   "9100",
		"spark.executor.extraJavaOptions":                           "-javaagent:/prometheus/jmx.jar=9100:/etc/metrics/conf/prometheus.yaml",
		"spark.metrics.conf":                                        "/etc/metrics/conf/metrics.properties",
	})
	for role, pod := range map[string]*corev1.Pod{"driver pod": j.driver, "executor template": j.template} {
		c := container(pod, map[bool]string{true: job.DriverContainerName, false: job.ExecutorContainerName}[pod == j.driver])
		if !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == "/etc/metrics/conf" }) {
			t.Errorf("%s does not mount the metrics files", role)
		}
		if !slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == "jmx-exporter" && p.ContainerPort == 9100 }) {
			t.Errorf("%s does not open the exporter port: %v", role, c.Ports)
		}
	}
	if j.driver.Annotations["prometheus.io/scrape"] != "true" {
		t.Errorf("driver pod annotations = %v", j.driver.Annotations)
	}
	for _, k := range []string{"metrics.properties", "prometheus.yaml"} {
		if j.r.ConfigMap.Data[k] == "" {
			t.Errorf("conf ConfigMap lacks %s", k)
		}
	}

	driverOnly := renderJob(t, func(s *job.JobSpec) { s.Monitoring = &job.MonitoringSpec{ExposeDriverMetrics: true} })
	if len(driverOnly.template.Spec.Volumes) > 0 || driverOnly.props["spark.kubernetes.executor.annotation.prometheus.io/scrape"] != "" {
		t.Errorf("exposeExecutorMetrics off, yet executors are set up for scraping: %v", driverOnly.template.Spec.Volumes)
	}
}

// What Spark's executor steps build from the conf reaches the conf, once, and not the template.
func TestExecutorConf(t *testing.T) {
	j := renderJob(t, func(s *job.JobSpec) {
		s.ImagePullSecrets = []string{"regcred"}
		s.ImagePullPolicy = "Always"
		s.Volumes = []corev1.Volume{
			{Name: "data", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/mnt/data", Type: ptr.To(corev1.HostPathDirectory)}}},
			{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}}}},
		}
		e := &s.Executor
		e.Image = "spark:exec"
		e.Cores, e.CoreRequest, e.CoreLimit, e.Memory, e.MemoryOverhead = ptr.To(int32(2)), "1500m", "3", "2g", "512m"
		e.EnvVars = map[string]string{"MODE": "batch"}
		e.EnvSecretKeyRefs = map[string]job.NameKey{"TOKEN": {Name: "api", Key: "token"}}
		e.Secrets = []job.SecretInfo{{Name: "creds", Path: "/mnt/creds"}}
		e.Labels = map[string]string{"team": "data"}
		e.Annotations = map[string]string{"owner": "{{APP_ID}}"}
		e.VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data", ReadOnly: true}, {Name: "cfg", MountPath: "/etc/cfg"}}
	})
	j.wantProps(t, map[string]string{
		"spark.kubernetes.executor.container.image":                      "spark:exec",
		"spark.kubernetes.container.image.pullPolicy":                    "Always",
		"spark.kubernetes.container.image.pullSecrets":                   "regcred",
		"spark.executor.cores":                                           "2",
		"spark.kubernetes.executor.request.cores":                        "1500m",
		"spark.kubernetes.executor.limit.cores":                          "3",
		"spark.executor.memory":                                          "2g",
		"spark.executor.memoryOverhead":                                  "512m",
		"spark.executorEnv.MODE":                                         "batch",
		"spark.kubernetes.executor.secretKeyRef.TOKEN":                   "api:token",
		"spark.kubernetes.executor.secrets.creds":                        "/mnt/creds",
		"spark.kubernetes.executor.label.team":                           "data",
		"spark.kubernetes.executor.annotation.owner":                     "{{APP_ID}}",
		"spark.kubernetes.executor.label." + job.LabelManagedBy:          job.ManagedByValue,
		"spark.kubernetes.executor.label." + job.LabelRun:                job.RunLabel("wf-test"),
		"spark.kubernetes.executor.label." + job.LabelAttempt:            "1",
		"spark.kubernetes.executor.annotation." + job.AnnotationWorkflow: "wf-test",
		"spark.kubernetes.executor.volumes.hostPath.data.mount.path":     "/data",
		"spark.kubernetes.executor.volumes.hostPath.data.mount.readOnly": "true",
		"spark.kubernetes.executor.volumes.hostPath.data.options.path":   "/mnt/data",
		"spark.kubernetes.executor.volumes.hostPath.data.options.type":   "Directory",
		"spark.kubernetes.executor.podNamePrefix":                        j.r.Names.ExecutorPrefix,
		"spark.kubernetes.executor.podTemplateFile":                      "/opt/spark/pod-template/pod-spec-template.yml",
	})
	if got, want := volumeNames(j.template), []string{"cfg"}; !slices.Equal(got, want) {
		t.Errorf("executor template volumes = %v, want %v: the rest are Spark's to add", got, want)
	}
	if len(j.template.Labels) > 0 || len(j.template.Annotations) > 0 || len(j.template.Spec.ImagePullSecrets) > 0 || j.template.Spec.RestartPolicy != "" {
		t.Errorf("executor template holds what Spark sets from the conf: %+v %+v", j.template.ObjectMeta, j.template.Spec)
	}
	// spec.executor.volumeMounts are the executors' alone.
	if slices.Contains(volumeNames(j.driver), "data") {
		t.Errorf("driver pod mounts the executor's volume: %v", volumeNames(j.driver))
	}
}
