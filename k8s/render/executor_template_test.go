package render

import (
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"k8s.io/utils/ptr"

	"github.com/kindling-dev/kindling/k8s/job/jobtest"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/kindling-dev/kindling/k8s/job"
)

// readProperties reads the spark.properties Render wrote, undoing escapeProperty.
func readProperties(t *testing.T, text string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		var key, val strings.Builder
		cur, inKey := &key, true
		for i := 0; i < len(line); i++ {
			switch ch := line[i]; {
			case ch == '\\' && i+1 < len(line):
				i++
				if un, ok := map[byte]byte{'n': '\n', 'r': '\r', 't': '\t'}[line[i]]; ok {
					cur.WriteByte(un)
				} else {
					cur.WriteByte(line[i])
				}
			case ch == '=' && inKey:
				cur, inKey = &val, false
			default:
				cur.WriteByte(ch)
			}
		}
		out[key.String()] = val.String()
	}
	return out
}

func executorTemplate(t *testing.T, r *Rendered) *corev1.Pod {
	t.Helper()
	pod := &corev1.Pod{}
	if err := yaml.UnmarshalStrict([]byte(r.ConfigMap.Data[PodTemplateFile]), pod); err != nil {
		t.Fatalf("executor pod template does not parse as a Pod: %v", err)
	}
	return pod
}

var sparkConfVolumeKey = regexp.MustCompile(`^spark\.kubernetes\.executor\.volumes\.[^.]+\.([^.]+)\.mount\.path$`)

// sparkExecutorPod is what a Spark driver makes of the template for one executor: its
// KubernetesExecutorBuilder's additions from spark.properties, appended as fabric8's addTo*
// builders do, without looking for what the template already holds. Only what can collide
// is simulated: volumes, mounts and the container Spark picks.
func sparkExecutorPod(props map[string]string, template *corev1.Pod) *corev1.Pod {
	pod := template.DeepCopy()
	i := slices.IndexFunc(pod.Spec.Containers, func(c corev1.Container) bool {
		return c.Name == props["spark.kubernetes.executor.podTemplateContainerName"]
	})
	if len(pod.Spec.Containers) == 0 {
		pod.Spec.Containers = []corev1.Container{{Name: job.ExecutorContainerName}}
	}
	c := &pod.Spec.Containers[max(i, 0)]
	add := func(v corev1.Volume, mountPath string) {
		pod.Spec.Volumes = append(pod.Spec.Volumes, v)
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: v.Name, MountPath: mountPath})
	}
	emptyDir := corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}
	// BasicExecutorFeatureStep: the executor's own conf ConfigMap.
	add(corev1.Volume{Name: "spark-conf-volume-exec", VolumeSource: emptyDir}, SparkConfDir)
	// MountSecretsFeatureStep.
	for name, p := range prefixed(props, "spark.kubernetes.executor.secrets.") {
		add(corev1.Volume{Name: name + "-volume", VolumeSource: emptyDir}, p)
	}
	// MountVolumesFeatureStep.
	for k, p := range props {
		if m := sparkConfVolumeKey.FindStringSubmatch(k); m != nil {
			add(corev1.Volume{Name: m[1], VolumeSource: emptyDir}, p)
		}
	}
	// HadoopConfExecutorFeatureStep.
	if props["spark.kubernetes.executor.hadoopConfigMapName"] != "" {
		add(corev1.Volume{Name: "hadoop-properties", VolumeSource: emptyDir}, "/opt/hadoop/conf")
	}
	// LocalDirsFeatureStep: skipped when the container already mounts spark-local-dir-*.
	if !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return strings.HasPrefix(m.Name, "spark-local-dir-") }) {
		dirs := splitList(props["spark.local.dir"])
		if len(dirs) == 0 {
			dirs = []string{"/var/data/spark-00000000-0000-0000-0000-000000000000"}
		}
		for n, d := range dirs {
			add(corev1.Volume{Name: "spark-local-dir-" + itoa(n+1), VolumeSource: emptyDir}, d)
		}
	}
	return pod
}

// podProblems are what the API server would reject in pod: two volumes of one name, two
// mounts at one path in a container, a mount of no volume.
func podProblems(pod *corev1.Pod) []string {
	var out []string
	vols := map[string]bool{}
	for _, v := range pod.Spec.Volumes {
		if vols[v.Name] {
			out = append(out, "duplicate volume "+v.Name)
		}
		vols[v.Name] = true
	}
	for _, c := range append(slices.Clone(pod.Spec.InitContainers), pod.Spec.Containers...) {
		paths := map[string]bool{}
		for _, m := range c.VolumeMounts {
			if paths[filepath.Clean(m.MountPath)] {
				out = append(out, "container "+c.Name+": duplicate mount path "+m.MountPath)
			}
			paths[filepath.Clean(m.MountPath)] = true
			if !vols[m.Name] {
				out = append(out, "container "+c.Name+": mount of undeclared volume "+m.Name)
			}
		}
	}
	return out
}

// everything is a job that uses each feature whose volumes or mounts could collide.
func everything() *job.JobSpec {
	s := minimalSpec()
	s.ImagePullPolicy = "Always"
	s.ImagePullSecrets = []string{"regcred"}
	s.HadoopConfigMap = "hadoop-conf"
	s.SparkConf = map[string]string{
		"spark.local.dir": "/tmp/a,/tmp/b",
		"spark.kubernetes.executor.volumes.emptyDir.scratch.mount.path": "/scratch",
		"spark.kubernetes.driver.volumes.emptyDir.scratch.mount.path":   "/scratch",
	}
	s.Volumes = []corev1.Volume{
		{Name: "data", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/mnt/data"}}},
		{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "test-cm"}}}},
		{Name: "spark-local-dir-1", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory, SizeLimit: ptr.To(resource.MustParse("1Gi"))}}},
		{Name: "raw", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "raw"}}},
	}
	s.Monitoring = &job.MonitoringSpec{ExposeDriverMetrics: true, ExposeExecutorMetrics: true,
		Prometheus: &job.PrometheusSpec{JmxExporterJar: "/prometheus/jmx.jar"}}
	for _, p := range []*job.SparkPodSpec{&s.Driver.SparkPodSpec, &s.Executor.SparkPodSpec} {
		p.Secrets = []job.SecretInfo{{Name: "gcp-key", Path: "/mnt/gcp", Type: job.SecretTypeGCPServiceAccount}}
		p.EnvSecretKeyRefs = map[string]job.NameKey{"DB_PASSWORD": {Name: "db", Key: "password"}}
		p.EnvVars = map[string]string{"MODE": "test"}
		p.Env = []corev1.EnvVar{{Name: "NODE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}}}
		p.Labels = map[string]string{"team": "data"}
		p.Annotations = map[string]string{"owner": "data-team"}
		p.NodeSelector = map[string]string{"disk": "ssd"}
		p.ServiceAccount = "spark"
		p.SchedulerName = "my-scheduler"
		p.CoreLimit = "2"
		p.VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data", ReadOnly: true}, {Name: "cfg", MountPath: "/etc/cfg"},
			{Name: "spark-local-dir-1", MountPath: "/local"}, {Name: "raw", MountPath: "/raw"}}
		p.ConfigMaps = []job.NamePath{{Name: "extra", Path: "/etc/extra"}}
		p.GPU = &job.GPUSpec{Name: "nvidia.com/gpu", Quantity: 1}
		p.Tolerations = []corev1.Toleration{{Key: "spark", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
		p.SecurityContext = &corev1.SecurityContext{RunAsNonRoot: ptr.To(true)}
		p.Sidecars = []corev1.Container{{Name: "log-shipper", Image: "fluent-bit", VolumeMounts: []corev1.VolumeMount{{Name: "cfg", MountPath: "/fluent"}}}}
		p.InitContainers = []corev1.Container{{Name: "warm-up", Image: "busybox"}}
		p.Template = &corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"from-template": "yes"}},
			Spec: corev1.PodSpec{Volumes: []corev1.Volume{{Name: "cache", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
				Containers: []corev1.Container{{Name: "spark-kubernetes-" + "x", VolumeMounts: []corev1.VolumeMount{{Name: "cache", MountPath: "/cache"}}}}},
		}
	}
	s.Driver.Template.Spec.Containers[0].Name = job.DriverContainerName
	s.Executor.Template.Spec.Containers[0].Name = job.ExecutorContainerName
	s.Executor.CoreRequest = "500m"
	return s
}

// The executor template plus what Spark's executor steps add from spark.properties must be
// a pod the API server accepts, for every operator example and golden job; and the driver
// pod, which only our steps build, must be one too.
func TestExecutorsSurviveSparksOwnSteps(t *testing.T) {
	jobs := goldenJobs(t)
	jobs["everything"] = everything()
	for _, f := range jobtest.ExampleFiles(t) {
		jobs["fixture "+filepath.Base(f)] = jobtest.ReadExample(t, f)
	}
	for _, name := range sortedKeys(jobs) {
		t.Run(name, func(t *testing.T) {
			r := mustRender(t, jobs[name])
			props := readProperties(t, r.ConfigMap.Data[SparkPropertiesFile])
			executor := sparkExecutorPod(props, executorTemplate(t, r))
			if p := podProblems(executor); len(p) > 0 {
				t.Errorf("executors would be rejected once Spark adds its volumes:\n%s\ntemplate:\n%s", strings.Join(p, "\n"), r.ConfigMap.Data[PodTemplateFile])
			}
			if p := podProblems(r.DriverPod); len(p) > 0 {
				t.Errorf("driver pod would be rejected: %s", strings.Join(p, "; "))
			}
		})
	}
}

// The check above can fail: a template holding a volume Spark also adds from the conf, as
// the renderer once shipped, is caught.
func TestSparkExecutorPodCatchesDuplicates(t *testing.T) {
	props := map[string]string{
		"spark.kubernetes.executor.podTemplateContainerName": job.ExecutorContainerName,
		"spark.kubernetes.executor.secrets.gcp-key":          "/mnt/gcp",
		"spark.local.dir": "/tmp/local",
	}
	template := &corev1.Pod{Spec: corev1.PodSpec{
		Volumes:    []corev1.Volume{{Name: "gcp-key-volume"}, {Name: "spark-local-dir-9"}},
		Containers: []corev1.Container{{Name: job.ExecutorContainerName, VolumeMounts: mounts("gcp-key-volume:/mnt/gcp", "spark-local-dir-9:/tmp/local/")}},
	}}
	got := podProblems(sparkExecutorPod(props, template))
	want := []string{"duplicate volume gcp-key-volume", "container spark-kubernetes-executor: duplicate mount path /mnt/gcp"}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("problems %q lack %q", got, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("problems = %q, want %q (a user spark-local-dir-* mount replaces Spark's local dirs, so /tmp/local is not doubled)", got, want)
	}
}
