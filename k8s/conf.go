package k8s

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Paths inside the driver where Spark reads what the conf ConfigMap carries.
const (
	SparkConfDir            = "/opt/spark/conf"
	SparkPropertiesFile     = "spark.properties"
	SparkConfVolume         = "spark-conf-volume-driver"
	PodTemplateDir          = "/opt/spark/pod-template"
	PodTemplateFile         = "pod-spec-template.yml"
	PodTemplateVolume       = "pod-template-volume"
	ExecutorContainerName   = "spark-kubernetes-executor"
	DefaultDriverPort       = 7078
	DefaultBlockManagerPort = 7079
	DefaultUIPort           = 4040
	defaultAllocBatchSize   = "5"
	kubernetesMasterURL     = "k8s://https://kubernetes.default.svc:443"
)

// specConf is the Spark conf a spec stands for: the user's sparkConf with the operator's
// fields laid over it, as the operator's spark-submit arguments do (spec fields win).
func specConf(s *JobSpec) map[string]string {
	c := maps.Clone(s.SparkConf)
	if c == nil {
		c = map[string]string{}
	}
	for k, v := range s.HadoopConf {
		c["spark.hadoop."+k] = v
	}
	set := func(k, v string) {
		if v != "" {
			c[k] = v
		}
	}
	set("spark.app.name", s.Name)
	set("spark.kubernetes.namespace", s.Namespace)
	set("spark.submit.deployMode", "cluster")
	c["spark.master"] = kubernetesMasterURL
	set("spark.kubernetes.driver.master", s.Driver.KubernetesMaster)
	if _, ok := c["spark.kubernetes.driver.master"]; !ok {
		c["spark.kubernetes.driver.master"] = "https://kubernetes.default.svc"
	}
	set("spark.kubernetes.container.image", s.Image)
	set("spark.kubernetes.container.image.pullPolicy", s.ImagePullPolicy)
	set("spark.kubernetes.container.image.pullSecrets", strings.Join(s.ImagePullSecrets, ","))
	set("spark.kubernetes.pyspark.pythonVersion", s.PythonVersion)
	set(confMemoryOverheadFactor, s.MemoryOverheadFactor)
	set("spark.kubernetes.resource.type", resourceType(s.Type))
	for k, v := range s.NodeSelector {
		c["spark.kubernetes.node.selector."+k] = v
	}

	// Dependencies, as spark-submit's --jars, --packages, … set them.
	set("spark.jars", joinAppend(c["spark.jars"], s.Deps.Jars))
	set("spark.files", joinAppend(c["spark.files"], s.Deps.Files))
	set("spark.submit.pyFiles", joinAppend(c["spark.submit.pyFiles"], s.Deps.PyFiles))
	set("spark.archives", joinAppend(c["spark.archives"], s.Deps.Archives))
	set("spark.jars.packages", joinAppend(c["spark.jars.packages"], s.Deps.Packages))
	set("spark.jars.excludes", joinAppend(c["spark.jars.excludes"], s.Deps.ExcludePackages))
	set("spark.jars.repositories", joinAppend(c["spark.jars.repositories"], s.Deps.Repositories))

	podConf(c, "driver", &s.Driver.SparkPodSpec, s.Driver.CoreRequest, s.Driver.JavaOptions)
	for k, v := range s.Driver.ServiceLabels {
		c["spark.kubernetes.driver.service.label."+k] = v
	}
	for k, v := range s.Driver.ServiceAnnotations {
		c["spark.kubernetes.driver.service.annotation."+k] = v
	}
	for k, v := range s.Driver.EnvVars {
		c["spark.kubernetes.driverEnv."+k] = v
	}

	podConf(c, "executor", &s.Executor.SparkPodSpec, s.Executor.CoreRequest, s.Executor.JavaOptions)
	if s.Executor.Instances != nil {
		c["spark.executor.instances"] = strconv.Itoa(int(*s.Executor.Instances))
	}
	if s.Executor.DeleteOnTermination != nil {
		c["spark.kubernetes.executor.deleteOnTermination"] = strconv.FormatBool(*s.Executor.DeleteOnTermination)
	}
	for k, v := range s.Executor.EnvVars {
		c["spark.executorEnv."+k] = v
	}

	// The operator's volumes Spark can mount itself, as Spark's volume keys.
	for role, p := range map[string]*SparkPodSpec{"driver": &s.Driver.SparkPodSpec, "executor": &s.Executor.SparkPodSpec} {
		vc, _ := splitVolumeMounts(s.Volumes, p.VolumeMounts, role)
		maps.Copy(c, vc)
	}

	if da := s.DynamicAllocation; da != nil && da.Enabled {
		c["spark.dynamicAllocation.enabled"] = "true"
		setInt := func(k string, v *int32) {
			if v != nil {
				c[k] = strconv.Itoa(int(*v))
			}
		}
		setInt("spark.dynamicAllocation.initialExecutors", da.InitialExecutors)
		setInt("spark.dynamicAllocation.minExecutors", da.MinExecutors)
		setInt("spark.dynamicAllocation.maxExecutors", da.MaxExecutors)
		// Kubernetes has no external shuffle service: shuffle tracking is what makes
		// dynamic allocation work, so it is on unless the user turns it off.
		tracking := da.ShuffleTrackingEnabled == nil || *da.ShuffleTrackingEnabled
		c["spark.dynamicAllocation.shuffleTracking.enabled"] = strconv.FormatBool(tracking)
		if da.ShuffleTrackingTimeout != nil {
			c["spark.dynamicAllocation.shuffleTracking.timeout"] = strconv.FormatInt(*da.ShuffleTrackingTimeout, 10)
		}
	}
	if _, ok := c["spark.kubernetes.allocation.batch.size"]; !ok {
		c["spark.kubernetes.allocation.batch.size"] = defaultAllocBatchSize
	}
	return c
}

// podConf sets the spark.{driver,executor}.* and spark.kubernetes.{driver,executor}.* keys
// of one SparkPodSpec.
func podConf(c map[string]string, role string, p *SparkPodSpec, coreRequest, javaOptions string) {
	set := func(k, v string) {
		if v != "" {
			c[k] = v
		}
	}
	k8s := "spark.kubernetes." + role + "."
	set(k8s+"container.image", p.Image)
	if p.Cores != nil {
		c["spark."+role+".cores"] = strconv.Itoa(int(*p.Cores))
	}
	set(k8s+"request.cores", coreRequest)
	set(k8s+"limit.cores", p.CoreLimit)
	set("spark."+role+".memory", p.Memory)
	set("spark."+role+".memoryOverhead", p.MemoryOverhead)
	set("spark.kubernetes.authenticate."+role+".serviceAccountName", p.ServiceAccount)
	if javaOptions != "" {
		c["spark."+role+".extraJavaOptions"] = strings.TrimSpace(c["spark."+role+".extraJavaOptions"] + " " + javaOptions)
	}
	for k, v := range p.Labels {
		c[k8s+"label."+k] = v
	}
	for k, v := range p.Annotations {
		c[k8s+"annotation."+k] = v
	}
	for k, v := range p.EnvSecretKeyRefs {
		c[k8s+"secretKeyRef."+k] = v.Name + ":" + v.Key
	}
	for _, s := range p.Secrets {
		c[k8s+"secrets."+s.Name] = s.Path
		env := ""
		file := ""
		switch s.Type {
		case SecretTypeGCPServiceAccount:
			env, file = "GOOGLE_APPLICATION_CREDENTIALS", "key.json"
		case SecretTypeHadoopDelegationToken:
			env, file = "HADOOP_TOKEN_FILE_LOCATION", "hadoop.token"
		}
		if env != "" {
			envKey := "spark.kubernetes.driverEnv." + env
			if role == "executor" {
				envKey = "spark.executorEnv." + env
			}
			c[envKey] = path.Join(s.Path, file)
		}
	}
	for k, v := range p.NodeSelector {
		c["spark.kubernetes."+role+".node.selector."+k] = v
	}
	set(k8s+"scheduler.name", p.SchedulerName)
}

func resourceType(t ApplicationType) string {
	switch t {
	case TypePython:
		return "python"
	case TypeR:
		return "r"
	}
	return "java"
}

func joinAppend(existing string, more []string) string {
	var all []string
	if existing != "" {
		all = append(all, strings.Split(existing, ",")...)
	}
	return strings.Join(append(all, more...), ",")
}

// prefixed returns the entries of c under prefix, with the prefix cut off.
func prefixed(c map[string]string, prefix string) map[string]string {
	out := map[string]string{}
	for k, v := range c {
		if rest, ok := strings.CutPrefix(k, prefix); ok && rest != "" {
			out[rest] = v
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// renderProperties writes conf as a Java properties file, one sorted key a line.
func renderProperties(c map[string]string) string {
	var b strings.Builder
	b.WriteString("# Rendered by Kindling; Spark reads it with --properties-file.\n")
	for _, k := range sortedKeys(c) {
		fmt.Fprintf(&b, "%s=%s\n", escapeProperty(k, true), escapeProperty(c[k], false))
	}
	return b.String()
}

func escapeProperty(s string, key bool) string {
	var b strings.Builder
	for i, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '=', ':', '#', '!':
			if key || i == 0 {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		case ' ':
			if key || i == 0 {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (s *JobSpec) effectiveConf() map[string]string { return specConf(s) }

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
