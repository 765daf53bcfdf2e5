package render

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"

	"github.com/kindling-dev/kindling/k8s/job"
)

// Spark's SparkSubmit.prepareSubmitEnvironment adds a JVM application's primary resource to
// spark.jars; Python and R files travel as files instead.
func TestMainJarIsInSparkJars(t *testing.T) {
	r := mustRender(t, minimalSpec())
	props := readProperties(t, r.ConfigMap.Data[SparkPropertiesFile])
	if got := props["spark.jars"]; got != "local:///opt/spark/examples/jars/spark-examples.jar" {
		t.Errorf("spark.jars = %q, want the main application jar", got)
	}
	py := minimalSpec()
	py.Type, py.MainClass, py.MainApplicationFile = job.TypePython, "", "local:///opt/spark/examples/src/main/python/pi.py"
	props = readProperties(t, mustRender(t, py).ConfigMap.Data[SparkPropertiesFile])
	if strings.Contains(props["spark.jars"], "pi.py") {
		t.Errorf("a Python main file went into spark.jars: %q", props["spark.jars"])
	}
}

// kubeflow/spark-operator internal/webhook/sparkpod_defaulter.go addHostNetwork: a pod on the
// node's network keeps cluster DNS, or executors cannot resolve the driver's service.
func TestHostNetworkKeepsClusterDNS(t *testing.T) {
	spec := minimalSpec()
	spec.Driver.HostNetwork = ptr.To(true)
	spec.Executor.HostNetwork = ptr.To(true)
	r := mustRender(t, spec)
	if !r.DriverPod.Spec.HostNetwork || r.DriverPod.Spec.DNSPolicy != corev1.DNSClusterFirstWithHostNet {
		t.Errorf("driver: hostNetwork %v dnsPolicy %q, want true and ClusterFirstWithHostNet", r.DriverPod.Spec.HostNetwork, r.DriverPod.Spec.DNSPolicy)
	}
	exec := executorTemplate(t, r)
	if !exec.Spec.HostNetwork || exec.Spec.DNSPolicy != corev1.DNSClusterFirstWithHostNet {
		t.Errorf("executor template: hostNetwork %v dnsPolicy %q, want true and ClusterFirstWithHostNet", exec.Spec.HostNetwork, exec.Spec.DNSPolicy)
	}
}

// sparkpod_defaulter.go getConfigMapVolumeName: ConfigMap names may hold dots, volume names may
// not; the volume gets the name with dashes and a hash of the whole name.
func TestConfigMapNamesWithDotsMakeValidVolumes(t *testing.T) {
	spec := minimalSpec()
	spec.Driver.ConfigMaps = []job.NamePath{{Name: "app.conf.v1", Path: "/etc/app"}, {Name: "app-conf-v1", Path: "/etc/app2"}}
	spec.Executor.ConfigMaps = []job.NamePath{{Name: strings.Repeat("long.", 50) + "x", Path: "/etc/app"}}
	r := mustRender(t, spec)
	names := map[string]bool{}
	for _, pod := range []*corev1.Pod{r.DriverPod, executorTemplate(t, r)} {
		for _, v := range pod.Spec.Volumes {
			if v.ConfigMap == nil || !strings.HasSuffix(v.Name, "-vol") {
				continue
			}
			if msgs := validation.IsDNS1123Label(v.Name); len(msgs) > 0 {
				t.Errorf("volume %q for ConfigMap %s: %v", v.Name, v.ConfigMap.Name, msgs)
			}
			names[v.Name] = true
		}
	}
	if len(names) != 3 {
		t.Errorf("volumes %v: want three distinct ones (app.conf.v1 and app-conf-v1 must not collide)", names)
	}
	if got := configMapVolumeName("app-conf"); got != "app-conf-vol" {
		t.Errorf("a plain name's volume is %q, want app-conf-vol as the operator names it", got)
	}
}

// The operator's submission.go puts the SparkApplication's labels on the driver and the
// executors (not Kueue's), under the roles' own labels.
func TestManifestLabelsReachDriverAndExecutors(t *testing.T) {
	spec := minimalSpec()
	spec.Labels = map[string]string{"team": "data", "tier": "batch", "kueue.x-k8s.io/queue-name": "q"}
	spec.Executor.Labels = map[string]string{"tier": "spot"}
	r := mustRender(t, spec)
	if r.DriverPod.Labels["team"] != "data" || r.DriverPod.Labels["tier"] != "batch" {
		t.Errorf("driver labels %v lack the manifest's", r.DriverPod.Labels)
	}
	if _, ok := r.DriverPod.Labels["kueue.x-k8s.io/queue-name"]; ok {
		t.Error("Kueue's label reached the driver pod")
	}
	props := readProperties(t, r.ConfigMap.Data[SparkPropertiesFile])
	if props["spark.kubernetes.executor.label.team"] != "data" || props["spark.kubernetes.executor.label.tier"] != "spot" {
		t.Errorf("executor labels: team=%q tier=%q, want data and the executor's own spot",
			props["spark.kubernetes.executor.label.team"], props["spark.kubernetes.executor.label.tier"])
	}
	bad := minimalSpec()
	bad.Labels = map[string]string{"spark-role": "x"}
	job.Default(bad)
	if err := Validate(bad); err == nil || !strings.Contains(err.Error(), "metadata.labels[spark-role]") {
		t.Errorf("a manifest label Spark reserves: %v", err)
	}
}

// api/v1beta2/defaults.go: with dynamic allocation on, the operator sets no executor count, so
// Spark starts max(minExecutors, initialExecutors).
func TestDynamicAllocationSetsNoExecutorCount(t *testing.T) {
	spec := minimalSpec()
	spec.DynamicAllocation = &job.DynamicAllocation{Enabled: true, MinExecutors: ptr.To(int32(2)), MaxExecutors: ptr.To(int32(10))}
	props := readProperties(t, mustRender(t, spec).ConfigMap.Data[SparkPropertiesFile])
	if v, ok := props["spark.executor.instances"]; ok {
		t.Errorf("spark.executor.instances = %q with dynamic allocation on; want it unset", v)
	}
	props = readProperties(t, mustRender(t, minimalSpec()).ConfigMap.Data[SparkPropertiesFile])
	if props["spark.executor.instances"] != "1" {
		t.Errorf("without dynamic allocation spark.executor.instances = %q, want the operator's default 1", props["spark.executor.instances"])
	}
}

// DriverServiceFeatureStep.scala: the service's block manager port is
// spark.driver.blockManager.port or 7079; spark.blockManager.port alone does not move it.
func TestBlockManagerPortAloneDoesNotMoveTheService(t *testing.T) {
	spec := minimalSpec()
	spec.SparkConf = map[string]string{"spark.blockManager.port": "7100"}
	r := mustRender(t, spec)
	for _, p := range r.Service.Spec.Ports {
		if p.Name == "blockmanager" && p.Port != DefaultBlockManagerPort {
			t.Errorf("service block manager port %d, want %d", p.Port, DefaultBlockManagerPort)
		}
	}
	props := readProperties(t, r.ConfigMap.Data[SparkPropertiesFile])
	if props["spark.driver.blockManager.port"] != "7079" {
		t.Errorf("spark.driver.blockManager.port = %q, want 7079 as the service step sets it", props["spark.driver.blockManager.port"])
	}
	spec.SparkConf = map[string]string{"spark.driver.blockManager.port": "7200"}
	for _, p := range mustRender(t, spec).Service.Spec.Ports {
		if p.Name == "blockmanager" && p.Port != 7200 {
			t.Errorf("service block manager port %d, want spark.driver.blockManager.port's 7200", p.Port)
		}
	}
}

// KubernetesClientUtils.buildConfigMap makes the conf ConfigMap immutable.
func TestConfConfigMapIsImmutable(t *testing.T) {
	if cm := mustRender(t, minimalSpec()).ConfigMap; cm.Immutable == nil || !*cm.Immutable {
		t.Error("the conf ConfigMap is not immutable")
	}
}

// Spark fetches dependencies through Hadoop's FileSystem, whose schemes are pluggable
// (fs.<scheme>.impl): any of them passes, unverified, as s3a:// does.
func TestAnyHadoopSchemePasses(t *testing.T) {
	spec := minimalSpec()
	spec.MainApplicationFile = "ftp://files.example.com/app.jar"
	spec.Deps.Jars = []string{"abfss://c@acct.dfs.core.windows.net/x.jar", "oss://bucket/y.jar", "cosn://b/z.jar"}
	job.Default(spec)
	if err := Validate(spec); err != nil {
		t.Errorf("Hadoop file system schemes were refused: %v", err)
	}
}

// The operator's sparkpod_defaulter.go addSparkConfigMap points SPARK_CONF_DIR at the mounted
// sparkConfigMap on both roles.
func TestSparkConfigMapIsTheConfDir(t *testing.T) {
	spec := minimalSpec()
	spec.SparkConfigMap = "spark-defaults"
	r := mustRender(t, spec)
	if e := envOf(r.DriverPod.Spec.Containers[0], "SPARK_CONF_DIR"); e == nil || e.Value != "/etc/spark/conf" {
		t.Errorf("driver SPARK_CONF_DIR = %+v, want /etc/spark/conf", e)
	}
	if got := readProperties(t, r.ConfigMap.Data[SparkPropertiesFile])["spark.executorEnv.SPARK_CONF_DIR"]; got != "/etc/spark/conf" {
		t.Errorf("spark.executorEnv.SPARK_CONF_DIR = %q, want /etc/spark/conf", got)
	}
	if e := envOf(mustRender(t, minimalSpec()).DriverPod.Spec.Containers[0], "SPARK_CONF_DIR"); e == nil || e.Value != SparkConfDir {
		t.Errorf("without a sparkConfigMap SPARK_CONF_DIR = %+v, want %s", e, SparkConfDir)
	}
}

// DriverServiceFeatureStep sets the service's IP family policy and families from
// spark.kubernetes.driver.service.ipFamilyPolicy / .ipFamilies (SingleStack, IPv4).
func TestDriverServiceIPFamilies(t *testing.T) {
	svc := mustRender(t, minimalSpec()).Service
	if svc.Spec.IPFamilyPolicy == nil || *svc.Spec.IPFamilyPolicy != corev1.IPFamilyPolicySingleStack || len(svc.Spec.IPFamilies) != 1 || svc.Spec.IPFamilies[0] != corev1.IPv4Protocol {
		t.Errorf("default: policy %v families %v, want SingleStack [IPv4]", svc.Spec.IPFamilyPolicy, svc.Spec.IPFamilies)
	}
	spec := minimalSpec()
	spec.SparkConf = map[string]string{"spark.kubernetes.driver.service.ipFamilyPolicy": "PreferDualStack", "spark.kubernetes.driver.service.ipFamilies": "IPv6,IPv4"}
	svc = mustRender(t, spec).Service
	if *svc.Spec.IPFamilyPolicy != corev1.IPFamilyPolicyPreferDualStack || len(svc.Spec.IPFamilies) != 2 || svc.Spec.IPFamilies[0] != corev1.IPv6Protocol {
		t.Errorf("dual stack: policy %v families %v", *svc.Spec.IPFamilyPolicy, svc.Spec.IPFamilies)
	}
	spec.SparkConf = map[string]string{"spark.kubernetes.driver.service.ipFamilies": "IPv5"}
	job.Default(spec)
	if err := Validate(spec); err == nil || !strings.Contains(err.Error(), "ipFamilies") {
		t.Errorf("IPv5: %v", err)
	}
}

// KubernetesUtils.buildResourcesQuantities: spark.driver.resource.<name>.amount and .vendor
// give the driver container the limit <vendor>/<name>; without a vendor Spark refuses.
func TestDriverAcceleratorResources(t *testing.T) {
	spec := minimalSpec()
	spec.SparkConf = map[string]string{"spark.driver.resource.gpu.amount": "1", "spark.driver.resource.gpu.vendor": "nvidia.com"}
	limits := mustRender(t, spec).DriverPod.Spec.Containers[0].Resources.Limits
	if q, ok := limits["nvidia.com/gpu"]; !ok || q.Value() != 1 {
		t.Errorf("driver limits %v, want nvidia.com/gpu: 1", limits)
	}
	spec.SparkConf = map[string]string{"spark.driver.resource.gpu.amount": "1"}
	job.Default(spec)
	if err := Validate(spec); err == nil || !strings.Contains(err.Error(), "Resource: gpu was requested, but vendor was not specified.") {
		t.Errorf("no vendor: %v", err)
	}
}

// The operator passes spec.deps as spark-submit flags, and SparkSubmitArguments.
// loadEnvironmentArguments takes a flag over the same sparkConf key; it passes javaOptions
// (with monitoring's agent, monitoring_config.go) as a --conf after sparkConf's, which wins.
func TestDepsAndJavaOptionsReplaceTheirSparkConfKeys(t *testing.T) {
	spec := minimalSpec()
	spec.SparkConf = map[string]string{
		"spark.jars": "local:///old.jar", "spark.jars.packages": "org.old:a:1", "spark.files": "local:///kept.txt",
		"spark.driver.extraJavaOptions": "-Dold=1", "spark.executor.extraJavaOptions": "-Dkept=1",
	}
	spec.Deps.Jars = []string{"local:///new.jar"}
	spec.Deps.Packages = []string{"org.new:b:2"}
	spec.Driver.JavaOptions = "-Dnew=1"
	props := readProperties(t, mustRender(t, spec).ConfigMap.Data[SparkPropertiesFile])
	for k, want := range map[string]string{
		"spark.jars":                      "local:///new.jar,local:///opt/spark/examples/jars/spark-examples.jar",
		"spark.jars.packages":             "org.new:b:2",
		"spark.files":                     "local:///kept.txt",
		"spark.driver.extraJavaOptions":   "-Dnew=1",
		"spark.executor.extraJavaOptions": "-Dkept=1",
	} {
		if props[k] != want {
			t.Errorf("%s = %q, want %q", k, props[k], want)
		}
	}

	spec.Monitoring = &job.MonitoringSpec{ExposeDriverMetrics: true, Prometheus: &job.PrometheusSpec{JmxExporterJar: "/prometheus/agent.jar"}}
	props = readProperties(t, mustRender(t, spec).ConfigMap.Data[SparkPropertiesFile])
	if got, want := props["spark.driver.extraJavaOptions"], "-Dnew=1 -javaagent:/prometheus/agent.jar=8090:/etc/metrics/conf/prometheus.yaml"; got != want {
		t.Errorf("with monitoring, spark.driver.extraJavaOptions = %q, want %q", got, want)
	}
}

// Spark 4.0's spark.{driver,executor}.minMemoryOverhead (config/package.scala, default 384m)
// replaces the fixed 384 MiB floor; Spark 3.5 has no such key.
func TestMinMemoryOverheadFollowsTheSparkVersion(t *testing.T) {
	for _, tc := range []struct {
		version          string
		driver, executor int64 // total MiB for 1g heaps
	}{
		{"4.0.1", 1024 + 512, 1024 + 600},
		{"", 1024 + 512, 1024 + 600}, // the newest Spark
		{"3.5.3", 1024 + 384, 1024 + 384},
	} {
		spec := minimalSpec()
		spec.SparkVersion = tc.version
		spec.SparkConf = map[string]string{"spark.driver.minMemoryOverhead": "512m", "spark.executor.minMemoryOverhead": "600"}
		r := mustRender(t, spec)
		if r.DriverMemoryMiB != tc.driver || r.ExecutorMemoryMiB != tc.executor {
			t.Errorf("Spark %q: driver %dMi executor %dMi, want %dMi and %dMi", tc.version, r.DriverMemoryMiB, r.ExecutorMemoryMiB, tc.driver, tc.executor)
		}
	}
	// Ignored when the overhead itself is set.
	spec := minimalSpec()
	spec.SparkConf = map[string]string{"spark.driver.minMemoryOverhead": "512m", "spark.driver.memoryOverhead": "200m"}
	if r := mustRender(t, spec); r.DriverMemoryMiB != 1024+200 {
		t.Errorf("driver %dMi, want 1224Mi: an explicit overhead wins", r.DriverMemoryMiB)
	}
}

// BasicDriverFeatureStep adds its CPU and memory to the driver template's resources
// (addToRequests / addToLimits): the rest of what the template asks stays.
func TestDriverTemplateResourcesAreKept(t *testing.T) {
	spec := minimalSpec()
	spec.Driver.Template = &corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{
		Name: job.DriverContainerName,
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceEphemeralStorage: resource.MustParse("10Gi"), corev1.ResourceCPU: resource.MustParse("100m")},
			Limits:   corev1.ResourceList{corev1.ResourceEphemeralStorage: resource.MustParse("20Gi"), corev1.ResourceCPU: resource.MustParse("3")},
		},
	}}}}
	res := mustRender(t, spec).DriverPod.Spec.Containers[0].Resources
	for name, want := range map[string]resource.Quantity{
		"requests ephemeral-storage": resource.MustParse("10Gi"), "limits ephemeral-storage": resource.MustParse("20Gi"),
		"limits cpu (no limit.cores)": resource.MustParse("3"), "requests cpu (Spark's)": resource.MustParse("1"),
		"requests memory (Spark's)": resource.MustParse("1408Mi"),
	} {
		list, key, _ := strings.Cut(name, " ")
		key, _, _ = strings.Cut(key, " ")
		got := res.Requests[corev1.ResourceName(key)]
		if list == "limits" {
			got = res.Limits[corev1.ResourceName(key)]
		}
		if got.Cmp(want) != 0 {
			t.Errorf("%s = %s, want %s", name, got.String(), want.String())
		}
	}
}

// sparkpod_defaulter.go addMemoryLimit: spec.driver.memoryLimit replaces the driver's memory
// limit (Spark's sizes or Kubernetes'); on executors Spark sets the limit after the template,
// so Kindling refuses it rather than drop it.
func TestDriverMemoryLimit(t *testing.T) {
	for in, want := range map[string]string{"2g": "2Gi", "3Gi": "3Gi", "1536m": "1536Mi"} {
		spec := minimalSpec()
		spec.Driver.MemoryLimit = in
		c := mustRender(t, spec).DriverPod.Spec.Containers[0]
		if got := c.Resources.Limits[corev1.ResourceMemory]; got.Cmp(resource.MustParse(want)) != 0 {
			t.Errorf("memoryLimit %q: limit %s, want %s", in, got.String(), want)
		}
		if got := c.Resources.Requests[corev1.ResourceMemory]; got.Cmp(resource.MustParse("1408Mi")) != 0 {
			t.Errorf("memoryLimit %q changed the request to %s", in, got.String())
		}
	}
	low := minimalSpec()
	low.Driver.MemoryLimit = "1g"
	if _, err := Attempt(low, Options{WorkflowID: "wf", Attempt: 1}); err == nil || !strings.Contains(err.Error(), "below the driver's memory request 1408Mi") {
		t.Errorf("a limit below the request: %v", err)
	}
	spec := minimalSpec()
	spec.Driver.MemoryLimit = "lots"
	spec.Executor.MemoryLimit = "2g"
	job.Default(spec)
	err := Validate(spec)
	for _, want := range []string{"spec.driver.memoryLimit", "spec.executor.memoryLimit: is not supported"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in %v", want, err)
		}
	}
}

// SparkSubmit.prepareSubmitEnvironment drops spark.driver.host in cluster mode ("Ignore invalid
// spark.driver.host in cluster modes"): so does Kindling, with a warning, instead of refusing.
func TestDriverHostIsIgnoredWithAWarning(t *testing.T) {
	spec := minimalSpec()
	spec.SparkConf = map[string]string{"spark.driver.host": "my-laptop"}
	r := mustRender(t, spec)
	if got, want := readProperties(t, r.ConfigMap.Data[SparkPropertiesFile])["spark.driver.host"], r.Names.Service+".default.svc"; got != want {
		t.Errorf("spark.driver.host = %q, want the service's %q", got, want)
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "spark.driver.host") {
		t.Errorf("warnings %q, want one about spark.driver.host", r.Warnings)
	}
	if len(mustRender(t, minimalSpec()).Warnings) != 0 {
		t.Error("a plain job has warnings")
	}
}

// Config.scala: Spark honours spark.kubernetes.executor.podNamePrefix when there is room for
// "-exec-<Int.MaxValue>" in 63 characters and it is made of DNS-1123 labels.
func TestExecutorPodNamePrefixIsHonouredWhenValid(t *testing.T) {
	spec := minimalSpec()
	spec.SparkConf = map[string]string{"spark.kubernetes.executor.podNamePrefix": "nightly-etl"}
	r := mustRender(t, spec)
	if got := readProperties(t, r.ConfigMap.Data[SparkPropertiesFile])["spark.kubernetes.executor.podNamePrefix"]; got != "nightly-etl" || r.Names.ExecutorPrefix != "nightly-etl" {
		t.Errorf("podNamePrefix = %q (names %q), want the user's nightly-etl", got, r.Names.ExecutorPrefix)
	}
	for _, bad := range []string{strings.Repeat("a", 48), "Nightly", "-x"} {
		spec.SparkConf = map[string]string{"spark.kubernetes.executor.podNamePrefix": bad}
		job.Default(spec)
		if err := Validate(spec); err == nil || !strings.Contains(err.Error(), "in spark.kubernetes.executor.podNamePrefix is invalid") {
			t.Errorf("prefix %q: %v", bad, err)
		}
	}
	spec.SparkConf = map[string]string{"spark.kubernetes.executor.podNamePrefix": strings.Repeat("a", 47)}
	job.Default(spec)
	if err := Validate(spec); err != nil {
		t.Errorf("a 47-character prefix is valid for Spark: %v", err)
	}
}

// Spark 4.0's KubernetesVolumeUtils: mount.subPathExpr (exclusive with mount.subPath), and an
// on-demand claim's label.* / annotation.*; a bare sizeLimit under 1KiB is a mistake.
func TestSpark4VolumeKeys(t *testing.T) {
	conf := map[string]string{
		"spark.kubernetes.driver.volumes.persistentVolumeClaim.data.mount.path":        "/data",
		"spark.kubernetes.driver.volumes.persistentVolumeClaim.data.mount.subPathExpr": "$(POD_NAME)",
		"spark.kubernetes.driver.volumes.persistentVolumeClaim.data.options.claimName": "OnDemand",
		"spark.kubernetes.driver.volumes.persistentVolumeClaim.data.options.sizeLimit": "10Gi",
		"spark.kubernetes.driver.volumes.persistentVolumeClaim.data.label.team":        "data",
		"spark.kubernetes.driver.volumes.persistentVolumeClaim.data.annotation.owner":  "etl",
	}
	for _, tc := range []struct {
		version string
		spark4  bool
	}{{"4.0.1", true}, {"3.5.3", false}} {
		spec := minimalSpec()
		spec.SparkVersion = tc.version
		spec.SparkConf = conf
		r := mustRender(t, spec)
		var mount *corev1.VolumeMount
		for i, m := range r.DriverPod.Spec.Containers[0].VolumeMounts {
			if m.Name == "data" {
				mount = &r.DriverPod.Spec.Containers[0].VolumeMounts[i]
			}
		}
		if mount == nil || (mount.SubPathExpr == "$(POD_NAME)") != tc.spark4 {
			t.Errorf("Spark %s: mount %+v, subPathExpr honoured should be %v", tc.version, mount, tc.spark4)
		}
		if len(r.Extra) != 1 || (r.Extra[0].GetLabels()["team"] == "data") != tc.spark4 || (r.Extra[0].GetAnnotations()["owner"] == "etl") != tc.spark4 {
			t.Errorf("Spark %s: claim labels %v annotations %v, honoured should be %v", tc.version, r.Extra[0].GetLabels(), r.Extra[0].GetAnnotations(), tc.spark4)
		}
	}
	spec := minimalSpec()
	spec.SparkConf = map[string]string{
		"spark.kubernetes.driver.volumes.emptyDir.scratch.mount.path":        "/scratch",
		"spark.kubernetes.driver.volumes.emptyDir.scratch.mount.subPath":     "a",
		"spark.kubernetes.driver.volumes.emptyDir.scratch.mount.subPathExpr": "b",
		"spark.kubernetes.driver.volumes.emptyDir.scratch.options.sizeLimit": "500",
	}
	job.Default(spec)
	err := Validate(spec)
	for _, want := range []string{"These config options are mutually exclusive: emptyDir.scratch.mount.subPath, emptyDir.scratch.mount.subPathExpr",
		"Volume size `500` is smaller than 1KiB. Missing units?"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in %v", want, err)
		}
	}
}

// Config.scala: Spark writes no spark.kubernetes.allocation.batch.size; its default is 5 on
// 3.x and 10 on 4.x, which a rendered value of 5 would have overridden.
func TestNoAllocationBatchSizeIsWritten(t *testing.T) {
	props := readProperties(t, mustRender(t, minimalSpec()).ConfigMap.Data[SparkPropertiesFile])
	if v, ok := props["spark.kubernetes.allocation.batch.size"]; ok {
		t.Errorf("spark.kubernetes.allocation.batch.size = %q written; Spark's default should hold", v)
	}
	spec := minimalSpec()
	spec.SparkConf = map[string]string{"spark.kubernetes.allocation.batch.size": "3"}
	if got := readProperties(t, mustRender(t, spec).ConfigMap.Data[SparkPropertiesFile])["spark.kubernetes.allocation.batch.size"]; got != "3" {
		t.Errorf("the user's batch size became %q", got)
	}
}

// MountVolumesFeatureStep.constructVolumes (Spark 3.5 and 4.0) builds an NFS source with
// readOnly unset, a claim whose readOnly is its mount's, and (before 4.0) a hostPath without a
// type: volumes with such flags reach the executors whole, through their pod template, not
// through spark.kubernetes.executor.volumes.* where the flag would be lost.
func TestExecutorVolumesKeepFlagsSparksConfCannotCarry(t *testing.T) {
	socket := corev1.HostPathSocket
	spec := minimalSpec()
	spec.SparkVersion = "3.5.3"
	spec.Volumes = []corev1.Volume{
		{Name: "shared", VolumeSource: corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{Server: "nfs.local", Path: "/data", ReadOnly: true}}},
		{Name: "ref", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "ref-data", ReadOnly: true}}},
		{Name: "sock", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/run/x.sock", Type: &socket}}},
		{Name: "scratch", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "scratch"}}},
	}
	mounts := []corev1.VolumeMount{{Name: "shared", MountPath: "/data"}, {Name: "ref", MountPath: "/ref"}, {Name: "sock", MountPath: "/run/x.sock"}, {Name: "scratch", MountPath: "/scratch"}}
	spec.Executor.VolumeMounts = mounts
	spec.Driver.VolumeMounts = mounts
	r := mustRender(t, spec)
	props := readProperties(t, r.ConfigMap.Data[SparkPropertiesFile])
	for _, name := range []string{"shared", "ref", "sock"} {
		for k := range props {
			if strings.Contains(k, ".volumes.") && strings.Contains(k, "."+name+".") {
				t.Errorf("volume %s went through %s, where Spark drops its flag", name, k)
			}
		}
	}
	if props["spark.kubernetes.executor.volumes.persistentVolumeClaim.scratch.options.claimName"] != "scratch" {
		t.Errorf("a claim Spark's keys express whole does not go through them: %v", props)
	}
	for _, pod := range []*corev1.Pod{r.DriverPod, executorTemplate(t, r)} {
		got := map[string]corev1.Volume{}
		for _, v := range pod.Spec.Volumes {
			got[v.Name] = v
		}
		if v := got["shared"]; v.NFS == nil || !v.NFS.ReadOnly {
			t.Errorf("%s: NFS volume %+v lost readOnly", pod.Name, v)
		}
		if v := got["ref"]; v.PersistentVolumeClaim == nil || !v.PersistentVolumeClaim.ReadOnly {
			t.Errorf("%s: claim %+v lost readOnly", pod.Name, v)
		}
		if v := got["sock"]; v.HostPath == nil || v.HostPath.Type == nil || *v.HostPath.Type != socket {
			t.Errorf("%s: hostPath %+v lost its type", pod.Name, v)
		}
	}
}

// MountVolumesFeatureStep's on-demand claims are ReadWriteOncePod since Spark 3.4.3 and 3.5.2
// (Config.scala: spark.kubernetes.legacy.useReadWriteOnceAccessMode, version 3.4.3, goes back
// to ReadWriteOnce); before, ReadWriteOnce.
func TestOnDemandClaimAccessModeFollowsTheSparkVersion(t *testing.T) {
	for _, tc := range []struct {
		version, legacy string
		want            corev1.PersistentVolumeAccessMode
	}{
		{"4.0.1", "", corev1.ReadWriteOncePod},
		{"", "", corev1.ReadWriteOncePod},
		{"3.5.2", "", corev1.ReadWriteOncePod},
		{"3.5.1", "", corev1.ReadWriteOnce},
		{"3.4.3", "", corev1.ReadWriteOncePod},
		{"3.4.2", "", corev1.ReadWriteOnce},
		{"3.3.4", "", corev1.ReadWriteOnce},
		{"4.0.1", "true", corev1.ReadWriteOnce},
	} {
		spec := minimalSpec()
		spec.SparkVersion = tc.version
		spec.SparkConf = map[string]string{
			"spark.kubernetes.driver.volumes.persistentVolumeClaim.data.mount.path":           "/data",
			"spark.kubernetes.driver.volumes.persistentVolumeClaim.data.options.claimName":    "OnDemand",
			"spark.kubernetes.driver.volumes.persistentVolumeClaim.data.options.sizeLimit":    "10Gi",
			"spark.kubernetes.driver.volumes.persistentVolumeClaim.data.options.storageClass": "standard",
		}
		if tc.legacy != "" {
			spec.SparkConf["spark.kubernetes.legacy.useReadWriteOnceAccessMode"] = tc.legacy
		}
		r := mustRender(t, spec)
		if len(r.Extra) != 1 {
			t.Fatalf("%s: %d extra objects, want the claim", tc.version, len(r.Extra))
		}
		modes, _, _ := unstructuredStrings(r.Extra[0].Object, "spec", "accessModes")
		if len(modes) != 1 || modes[0] != string(tc.want) {
			t.Errorf("sparkVersion %q legacy %q: access modes %v, want %s", tc.version, tc.legacy, modes, tc.want)
		}
	}
}

func unstructuredStrings(obj map[string]any, fields ...string) ([]string, bool, error) {
	return unstructured.NestedStringSlice(obj, fields...)
}

// KerberosConfDriverFeatureStep: needKeytabUpload = keytab.exists(!Utils.isLocalUri(_)); a
// local: keytab (in the image, or mounted from a Secret) is neither uploaded nor mounted, and
// spark.kerberos.keytab and .principal reach the driver as given. Executors get nothing.
func TestLocalKeytabPassesToTheDriver(t *testing.T) {
	spec := minimalSpec()
	spec.Driver.Secrets = []job.SecretInfo{{Name: "user-keytab", Path: "/mnt/keytab", Type: "Generic"}}
	spec.SparkConf = map[string]string{
		"spark.kerberos.keytab":                        "local:///mnt/keytab/user.keytab",
		"spark.kerberos.principal":                     "etl@EXAMPLE.COM",
		"spark.kubernetes.kerberos.krb5.configMapName": "krb5",
	}
	r := mustRender(t, spec)
	props := readProperties(t, r.ConfigMap.Data[SparkPropertiesFile])
	if props["spark.kerberos.keytab"] != "local:///mnt/keytab/user.keytab" || props["spark.kerberos.principal"] != "etl@EXAMPLE.COM" {
		t.Errorf("keytab %q principal %q, want them as given", props["spark.kerberos.keytab"], props["spark.kerberos.principal"])
	}
	if len(r.Extra) != 0 {
		t.Errorf("a local keytab made %d objects; Spark uploads nothing for it", len(r.Extra))
	}
	for _, v := range executorTemplate(t, r).Spec.Volumes {
		if v.Name == krb5Volume || v.Name == "kerberos-keytab" {
			t.Errorf("executors got the Kerberos volume %s; Spark gives them none", v.Name)
		}
	}
}

// SparkSubmit.prepareSubmitEnvironment merges a Python or R primary file into spark.files
// only when deployMode == CLIENT: in cluster mode the submission client leaves it out, and the
// driver's own spark-submit (client mode, inside the pod) adds it. So the rendered conf has it
// in neither spark.files nor spark.submit.pyFiles.
func TestPythonMainFileIsNotADependencyOfTheSubmission(t *testing.T) {
	py := minimalSpec()
	py.Type, py.MainClass, py.MainApplicationFile = job.TypePython, "", "local:///opt/app/main.py"
	py.Deps.PyFiles = []string{"local:///opt/app/lib.zip"}
	props := readProperties(t, mustRender(t, py).ConfigMap.Data[SparkPropertiesFile])
	for _, k := range []string{"spark.files", "spark.submit.pyFiles"} {
		if strings.Contains(props[k], "main.py") {
			t.Errorf("%s = %q holds the main file; spark-submit adds it only in client mode", k, props[k])
		}
	}
	if props["spark.submit.pyFiles"] != "local:///opt/app/lib.zip" {
		t.Errorf("spark.submit.pyFiles = %q, want the deps' pyFiles", props["spark.submit.pyFiles"])
	}
}
