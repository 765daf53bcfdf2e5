package k8s

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Problem is one thing wrong with a spec: the field, as a path from the manifest root
// (spec.driver.coreLimit, spec.sparkConf[spark.driver.host]), and the rule it breaks.
type Problem struct {
	Field string `json:"field"`
	Rule  string `json:"rule"`
}

func (p Problem) String() string { return p.Field + ": " + p.Rule }

// ValidationError lists every problem of a spec at once.
type ValidationError struct {
	Problems []Problem `json:"problems"`
}

func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return fmt.Sprintf("invalid job spec (%d problems):\n%s", len(e.Problems), strings.Join(lines, "\n"))
}

type problems []Problem

func (ps *problems) add(field, format string, args ...any) {
	*ps = append(*ps, Problem{Field: field, Rule: fmt.Sprintf(format, args...)})
}

// Schemes a main file or dependency may use: local:// is in the image; the others are
// fetched (http, https) or read by Spark's Hadoop file systems in the driver.
var supportedSchemes = []string{"local", "http", "https", "s3", "s3a", "gs", "hdfs", "abfs", "abfss", "wasb", "wasbs", "oss", "cos", "cosn"}

// Validate checks a defaulted spec and returns a *ValidationError listing every problem, or nil.
func Validate(s *JobSpec) error {
	var ps problems
	validateTop(s, &ps)
	validateConf(s, &ps)
	ps = append(ps, checkSettings(s)...)
	validatePod(s, "spec.driver", &s.Driver.SparkPodSpec, s.Driver.CoreRequest, "driver", &ps)
	validatePod(s, "spec.executor", &s.Executor.SparkPodSpec, s.Executor.CoreRequest, "executor", &ps)
	validateMounts(s, "spec.driver", &s.Driver.SparkPodSpec, "driver", &ps)
	validateMounts(s, "spec.executor", &s.Executor.SparkPodSpec, "executor", &ps)
	if s.Driver.PodName != "" {
		ps.add("spec.driver.podName", "is only for in-cluster-client mode, which Kindling does not support; driver pod names are derived from the workflow and attempt")
	}
	for _, p := range s.Driver.Ports {
		validatePort("spec.driver.ports", p, &ps)
	}
	for _, p := range s.Executor.Ports {
		validatePort("spec.executor.ports", p, &ps)
	}
	if s.Executor.Instances != nil && *s.Executor.Instances < 0 {
		ps.add("spec.executor.instances", "must be 0 or more, got %d", *s.Executor.Instances)
	}
	if len(ps) == 0 {
		return nil
	}
	return &ValidationError{Problems: ps}
}

func validateTop(s *JobSpec, ps *problems) {
	switch {
	case s.Name == "":
		ps.add("metadata.name", "is required")
	default:
		for _, msg := range validation.IsDNS1123Subdomain(s.Name) {
			ps.add("metadata.name", "must be a DNS-1123 subdomain: %s", msg)
		}
	}
	for _, msg := range validation.IsDNS1123Label(s.Namespace) {
		ps.add("metadata.namespace", "must be a DNS-1123 label: %s", msg)
	}
	switch s.Type {
	case TypeJava, TypeScala, TypePython, TypeR:
	default:
		ps.add("spec.type", "must be one of Java, Scala, Python, R; got %q", s.Type)
	}
	switch s.Mode {
	case ModeCluster:
	case ModeClient, ModeInClusterClient:
		ps.add("spec.mode", "%s mode is not supported yet: Kindling runs the driver in the cluster; use mode: cluster", s.Mode)
	default:
		ps.add("spec.mode", "must be cluster; got %q", s.Mode)
	}
	if s.Image == "" && (s.Driver.Image == "" || s.Executor.Image == "") && s.SparkConf["spark.kubernetes.container.image"] == "" {
		ps.add("spec.image", "is required (or both spec.driver.image and spec.executor.image)")
	}
	switch s.ImagePullPolicy {
	case "", "Always", "IfNotPresent", "Never":
	default:
		ps.add("spec.imagePullPolicy", "must be Always, IfNotPresent or Never; got %q", s.ImagePullPolicy)
	}
	if s.MainApplicationFile == "" {
		ps.add("spec.mainApplicationFile", "is required")
	} else {
		validateURI("spec.mainApplicationFile", s.MainApplicationFile, ps)
	}
	for field, uris := range map[string][]string{"jars": s.Deps.Jars, "files": s.Deps.Files, "pyFiles": s.Deps.PyFiles, "archives": s.Deps.Archives} {
		for i, u := range uris {
			validateURI(fmt.Sprintf("spec.deps.%s[%d]", field, i), u, ps)
		}
	}
	if (s.Type == TypeJava || s.Type == TypeScala) && s.MainClass == "" && s.SparkConf["spark.kubernetes.driver.mainClass"] == "" {
		// Spark can read Main-Class from the jar's manifest, but only after submission
		// fetched it; Kindling does not, so the class must be named.
		ps.add("spec.mainClass", "is required for %s applications", s.Type)
	}
	switch s.RestartPolicy.Type {
	case RestartNever, RestartOnFailure, RestartAlways:
	default:
		ps.add("spec.restartPolicy.type", "must be Never, OnFailure or Always; got %q", s.RestartPolicy.Type)
	}
	rp := s.RestartPolicy
	for f, v := range map[string]*int32{"onFailureRetries": rp.OnFailureRetries, "onSubmissionFailureRetries": rp.OnSubmissionFailureRetries} {
		if v != nil && *v < 0 {
			ps.add("spec.restartPolicy."+f, "must be 0 or more, got %d", *v)
		}
	}
	for f, v := range map[string]*int64{"onFailureRetryInterval": rp.OnFailureRetryInterval, "onSubmissionFailureRetryInterval": rp.OnSubmissionFailureRetryInterval} {
		if v != nil && *v < 1 {
			ps.add("spec.restartPolicy."+f, "must be at least 1 second, got %d", *v)
		}
	}
	if s.FailureRetries != nil || s.RetryInterval != nil {
		ps.add("spec.failureRetries", "is not supported: use spec.restartPolicy.onFailureRetries and onFailureRetryInterval")
	}
	if s.TimeToLiveSeconds != nil && *s.TimeToLiveSeconds < 0 {
		ps.add("spec.timeToLiveSeconds", "must be 0 or more, got %d", *s.TimeToLiveSeconds)
	}
	switch s.PythonVersion {
	case "", "2", "3":
	default:
		ps.add("spec.pythonVersion", "must be 2 or 3; got %q", s.PythonVersion)
	}
	if s.MemoryOverheadFactor != "" {
		if _, err := parseFactor(s.MemoryOverheadFactor); err != nil {
			ps.add("spec.memoryOverheadFactor", "%v", err)
		}
	}
	switch s.BatchScheduler {
	case "", SchedulerKube, SchedulerVolcano, SchedulerYuniKorn:
	default:
		ps.add("spec.batchScheduler", "must be kube-scheduler, volcano or yunikorn; got %q", s.BatchScheduler)
	}
	if o := s.BatchSchedulerOptions; o != nil && o.Queue != "" && s.BatchScheduler == "" {
		ps.add("spec.batchSchedulerOptions.queue", "needs spec.batchScheduler (volcano or yunikorn)")
	}
	if s.SparkUIOptions != nil {
		ps.add("spec.sparkUIOptions", "is not supported yet: Kindling creates no UI service or ingress; reach the UI through the driver service port spark-ui (4040)")
	}
	if len(s.DriverIngressOptions) > 0 {
		ps.add("spec.driverIngressOptions", "is not supported yet: Kindling creates no ingress")
	}
	if s.SparkConfigMap != "" {
		for _, msg := range validation.IsDNS1123Subdomain(s.SparkConfigMap) {
			ps.add("spec.sparkConfigMap", "must be a ConfigMap name: %s", msg)
		}
	}
	if s.HadoopConfigMap != "" {
		for _, msg := range validation.IsDNS1123Subdomain(s.HadoopConfigMap) {
			ps.add("spec.hadoopConfigMap", "must be a ConfigMap name: %s", msg)
		}
	}
	if da := s.DynamicAllocation; da != nil && da.Enabled {
		if da.MinExecutors != nil && da.MaxExecutors != nil && *da.MinExecutors > *da.MaxExecutors {
			ps.add("spec.dynamicAllocation.minExecutors", "must not exceed maxExecutors (%d > %d)", *da.MinExecutors, *da.MaxExecutors)
		}
		if da.InitialExecutors != nil && da.MaxExecutors != nil && *da.InitialExecutors > *da.MaxExecutors {
			ps.add("spec.dynamicAllocation.initialExecutors", "must not exceed maxExecutors (%d > %d)", *da.InitialExecutors, *da.MaxExecutors)
		}
	}
	if m := s.Monitoring; m != nil && m.Prometheus != nil {
		if m.Prometheus.JmxExporterJar == "" {
			ps.add("spec.monitoring.prometheus.jmxExporterJar", "is required")
		}
		if p := m.Prometheus.Port; p != nil && (*p < 1024 || *p > 49151) {
			ps.add("spec.monitoring.prometheus.port", "must be between 1024 and 49151, got %d", *p)
		}
		if n := m.Prometheus.PortName; n != "" {
			for _, msg := range validation.IsValidPortName(n) {
				ps.add("spec.monitoring.prometheus.portName", "%s", msg)
			}
		}
	}
	seen := map[string]bool{}
	for i, v := range s.Volumes {
		f := fmt.Sprintf("spec.volumes[%d].name", i)
		for _, msg := range validation.IsDNS1123Label(v.Name) {
			ps.add(f, "must be a DNS-1123 label: %s", msg)
		}
		if seen[v.Name] {
			ps.add(f, "volume %q is declared twice", v.Name)
		}
		seen[v.Name] = true
	}
}

func validateURI(field, u string, ps *problems) {
	parsed, err := url.Parse(u)
	if err != nil {
		ps.add(field, "is not a URI: %v", err)
		return
	}
	switch {
	case parsed.Scheme == "" || parsed.Scheme == "file":
		ps.add(field, "%q is a file on the submitting machine, which Kindling cannot upload; use local:// for a file in the image, or http(s)://", u)
	case !slices.Contains(supportedSchemes, parsed.Scheme):
		ps.add(field, "scheme %q is not supported; use one of %s", parsed.Scheme, strings.Join(supportedSchemes, ", "))
	}
}

var (
	reservedSparkLabels = []string{LabelSparkAppID, LabelSparkRole, LabelSparkAppName, LabelSparkVersion}
	kindlingLabels      = []string{LabelManagedBy, LabelRun, LabelAttempt}
)

// Keys Kindling derives per attempt; a user value would be ignored, so it is refused.
var ownedConf = map[string]string{
	// spark-submit uploads the keytab from the submitting machine into a Secret; Kindling
	// submits from a worker that has no such file, so the setting would be silently lost.
	"spark.kerberos.keytab": "is not supported: Kindling cannot upload a keytab from the submitting machine; " +
		"give the driver a delegation token with spark.kubernetes.kerberos.tokenSecret.name and .itemKey, or mount the keytab with spec.driver.secrets",
	"spark.app.id":                                     "is set by Kindling from the workflow and attempt",
	"spark.kubernetes.driver.pod.name":                 "is set by Kindling: driver pod names are derived from the workflow and attempt",
	"spark.kubernetes.executor.podNamePrefix":          "is set by Kindling: executor names are derived from the workflow and attempt",
	"spark.kubernetes.executor.podTemplateFile":        "is set by Kindling; use spec.executor.template",
	"spark.kubernetes.driver.podTemplateFile":          "is not supported; use spec.driver.template",
	"spark.kubernetes.submitInDriver":                  "is set by Kindling",
	"spark.kubernetes.driver.podTemplateContainerName": "is not supported; name the template's Spark container spark-kubernetes-driver or put it first",
}

func validateConf(s *JobSpec, ps *problems) {
	c := s.SparkConf
	field := func(k string) string { return "spec.sparkConf[" + k + "]" }
	// DriverServiceFeatureStep's messages, word for word.
	if _, ok := c["spark.driver.bindAddress"]; ok {
		ps.add(field("spark.driver.bindAddress"), "spark.driver.bindAddress is not supported in Kubernetes mode, as the driver's bind address is managed and set to the driver pod's IP address.")
	}
	if _, ok := c["spark.driver.host"]; ok {
		ps.add(field("spark.driver.host"), "spark.driver.host is not supported in Kubernetes mode, as the driver's hostname will be managed via a Kubernetes service.")
	}
	for _, k := range sortedKeys(ownedConf) {
		if _, ok := c[k]; ok {
			ps.add(field(k), "%s", ownedConf[k])
		}
	}
	if m := c["spark.submit.deployMode"]; m != "" && m != "cluster" {
		ps.add(field("spark.submit.deployMode"), "%s mode is not supported yet: Kindling runs the driver in the cluster", m)
	}
	for _, k := range []string{"spark.driver.memory", "spark.executor.memory", "spark.driver.memoryOverhead", "spark.executor.memoryOverhead", "spark.executor.pyspark.memory"} {
		if v, ok := c[k]; ok {
			if _, err := parseMiB(v); err != nil {
				ps.add(field(k), "%v", err)
			}
		}
	}
	for _, k := range []string{confMemoryOverheadFactor, "spark.driver.memoryOverheadFactor", "spark.executor.memoryOverheadFactor"} {
		if v, ok := c[k]; ok {
			if _, err := parseFactor(v); err != nil {
				ps.add(field(k), "%v", err)
			}
		}
	}
	for _, k := range []string{"spark.driver.cores", "spark.executor.cores"} {
		if v, ok := c[k]; ok {
			if n, err := strconv.Atoi(v); err != nil || n < 1 {
				ps.add(field(k), "%q must be a whole number of cores, 1 or more; ask for a fraction with spark.kubernetes.%s.request.cores", v, strings.Split(k, ".")[1])
			}
		}
	}
	for _, k := range []string{"spark.kubernetes.driver.request.cores", "spark.kubernetes.driver.limit.cores", "spark.kubernetes.executor.request.cores", "spark.kubernetes.executor.limit.cores"} {
		if v, ok := c[k]; ok {
			if _, err := parseCores(v); err != nil {
				ps.add(field(k), "%v", err)
			}
		}
	}
	for _, k := range []string{"spark.driver.port", "spark.driver.blockManager.port", "spark.blockManager.port", "spark.ui.port"} {
		if v, ok := c[k]; ok {
			if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 65535 {
				ps.add(field(k), "%q must be a port number between 1 and 65535", v)
			}
		}
	}
	for _, role := range []string{"driver", "executor"} {
		for _, p := range parseConfVolumes(c, role) {
			for _, msg := range p.problems {
				ps.add(field(p.key), "%s", msg)
			}
		}
	}
}

func validatePod(s *JobSpec, at string, p *SparkPodSpec, coreRequest, role string, ps *problems) {
	if p.Cores != nil && *p.Cores < 1 {
		ps.add(at+".cores", "must be a whole number, 1 or more, got %d; ask for a fraction with coreRequest", *p.Cores)
	}
	if p.Memory != "" {
		if _, err := parseMiB(p.Memory); err != nil {
			ps.add(at+".memory", "%v", err)
		}
	}
	if p.MemoryOverhead != "" {
		if _, err := parseMiB(p.MemoryOverhead); err != nil {
			ps.add(at+".memoryOverhead", "%v", err)
		}
	}
	reqOK := true
	var req, limit float64
	switch {
	case coreRequest != "":
		q, err := parseCores(coreRequest)
		if err != nil {
			ps.add(at+".coreRequest", "%v", err)
			reqOK = false
		}
		req = q.AsApproximateFloat64()
	case p.Cores != nil:
		req = float64(*p.Cores)
	default:
		n, err := strconv.Atoi(s.SparkConf["spark."+role+".cores"])
		req, reqOK = float64(n), err == nil
	}
	if p.CoreLimit != "" {
		q, err := parseCores(p.CoreLimit)
		if err != nil {
			ps.add(at+".coreLimit", "%v", err)
		} else if limit = q.AsApproximateFloat64(); reqOK && limit < req {
			ps.add(at+".coreLimit", "%s is less than the CPU request (%s cores)", p.CoreLimit, strconv.FormatFloat(req, 'f', -1, 64))
		}
	}
	if g := p.GPU; g != nil {
		if g.Name == "" {
			ps.add(at+".gpu.name", "is required, e.g. nvidia.com/gpu")
		} else if msgs := validation.IsQualifiedName(g.Name); len(msgs) > 0 {
			ps.add(at+".gpu.name", "must be a resource name: %s", strings.Join(msgs, "; "))
		}
		if g.Quantity < 1 {
			ps.add(at+".gpu.quantity", "must be 1 or more, got %d", g.Quantity)
		}
	}
	customLabels := prefixed(specConfLabels(s, role), "")
	for _, k := range sortedKeys(customLabels) {
		f := at + ".labels[" + k + "]"
		if _, fromSpec := p.Labels[k]; !fromSpec {
			f = "spec.sparkConf[spark.kubernetes." + role + ".label." + k + "]"
		}
		if slices.Contains(reservedSparkLabels, k) || (role == "executor" && (k == LabelSparkExecID || k == "spark-exec-resourceprofile-id")) {
			ps.add(f, "Custom %s labels cannot contain %s as it is reserved for Spark.", role, k)
			continue
		}
		if slices.Contains(kindlingLabels, k) {
			ps.add(f, "label %s is reserved for Kindling", k)
			continue
		}
		for _, msg := range validation.IsQualifiedName(k) {
			ps.add(f, "label key: %s", msg)
		}
		v := substituteIDs(customLabels[k], "spark-00000000000000000000000000000000", "1")
		for _, msg := range validation.IsValidLabelValue(v) {
			ps.add(f, "label value: %s", msg)
		}
	}
	for _, k := range sortedKeys(p.EnvSecretKeyRefs) {
		for _, msg := range validation.IsEnvVarName(k) {
			ps.add(at+".envSecretKeyRefs["+k+"]", "%s", msg)
		}
	}
	for _, k := range sortedKeys(p.EnvVars) {
		for _, msg := range validation.IsEnvVarName(k) {
			ps.add(at+".envVars["+k+"]", "%s", msg)
		}
	}
	for i, sec := range p.Secrets {
		if n := len(sec.Name + secretVolumeSuffix); n > maxNameLen {
			ps.add(fmt.Sprintf("%s.secrets[%d].name", at, i), "secret name is too long: its volume %s%s would have %d characters, more than 63", sec.Name, secretVolumeSuffix, n)
		}
		switch sec.Type {
		case "", SecretTypeGeneric, SecretTypeGCPServiceAccount, SecretTypeHadoopDelegationToken:
		default:
			ps.add(fmt.Sprintf("%s.secrets[%d].secretType", at, i), "must be Generic, GCPServiceAccount or HadoopDelegationToken; got %q", sec.Type)
		}
	}
	for i, cm := range p.ConfigMaps {
		if n := len(cm.Name + configMapVolumeSuffix); n > maxNameLen {
			ps.add(fmt.Sprintf("%s.configMaps[%d].name", at, i), "ConfigMap name is too long: its volume %s%s would have %d characters, more than 63", cm.Name, configMapVolumeSuffix, n)
		}
	}
}

func specConfLabels(s *JobSpec, role string) map[string]string {
	out := prefixed(s.SparkConf, "spark.kubernetes."+role+".label.")
	for k, v := range map[string]string(func() map[string]string {
		if role == "driver" {
			return s.Driver.Labels
		}
		return s.Executor.Labels
	}()) {
		out[k] = v
	}
	return out
}

func validatePort(at string, p Port, ps *problems) {
	for _, msg := range validation.IsValidPortName(p.Name) {
		ps.add(at+"["+p.Name+"].name", "%s", msg)
	}
	if p.ContainerPort < 1 || p.ContainerPort > 65535 {
		ps.add(at+"["+p.Name+"].containerPort", "must be between 1 and 65535, got %d", p.ContainerPort)
	}
	switch p.Protocol {
	case "", "TCP", "UDP", "SCTP":
	default:
		ps.add(at+"["+p.Name+"].protocol", "must be TCP, UDP or SCTP; got %q", p.Protocol)
	}
}

var confVolumeKey = regexp.MustCompile(`^spark\.kubernetes\.(driver|executor)\.volumes\.([^.]+)\.([^.]+)\.(mount\.path|mount\.readOnly|mount\.subPath|mount\.subPathExpr|options\..+|label\..+|annotation\..+)$`)

// validateMounts checks that every mount of one role names a declared volume and that no two
// mounts of the Spark container share a path.
func validateMounts(s *JobSpec, at string, p *SparkPodSpec, role string, ps *problems) {
	declared := map[string]bool{}
	for _, v := range s.Volumes {
		declared[v.Name] = true
	}
	if p.Template != nil {
		for _, v := range p.Template.Spec.Volumes {
			declared[v.Name] = true
		}
	}
	type mount struct{ field, path string }
	var mounts []mount
	// Kindling's own mounts come first, so a clash is blamed on the user's field.
	if role == "driver" {
		mounts = append(mounts, mount{"(Kindling) " + SparkConfVolume, SparkConfDir}, mount{"(Kindling) " + PodTemplateVolume, PodTemplateDir})
	} else {
		// BasicExecutorFeatureStep mounts the executor's conf ConfigMap there.
		mounts = append(mounts, mount{"(Spark) spark-conf-volume-exec", SparkConfDir})
	}
	if s.HadoopConfigMap != "" {
		mounts = append(mounts, mount{"spec.hadoopConfigMap", hadoopConfDir})
	}
	for i, m := range p.VolumeMounts {
		f := fmt.Sprintf("%s.volumeMounts[%d]", at, i)
		if !declared[m.Name] {
			ps.add(f+".name", "volume %q is not declared in spec.volumes", m.Name)
		}
		if m.MountPath == "" {
			ps.add(f+".mountPath", "is required")
		}
		mounts = append(mounts, mount{f + ".mountPath", m.MountPath})
	}
	for i, sec := range p.Secrets {
		mounts = append(mounts, mount{fmt.Sprintf("%s.secrets[%d].path", at, i), sec.Path})
	}
	for i, cm := range p.ConfigMaps {
		mounts = append(mounts, mount{fmt.Sprintf("%s.configMaps[%d].path", at, i), cm.Path})
	}
	for _, k := range sortedKeys(prefixed(s.SparkConf, "spark.kubernetes."+role+".secrets.")) {
		mounts = append(mounts, mount{"spec.sparkConf[spark.kubernetes." + role + ".secrets." + k + "]", s.SparkConf["spark.kubernetes."+role+".secrets."+k]})
	}
	for _, v := range parseConfVolumes(s.SparkConf, role) {
		if v.mountPath != "" {
			mounts = append(mounts, mount{"spec.sparkConf[" + v.key + "]", v.mountPath})
		}
	}
	byPath := map[string]string{}
	for _, m := range mounts {
		if m.path == "" {
			continue
		}
		clean := path.Clean(m.path)
		if !path.IsAbs(clean) {
			ps.add(m.field, "mount path %q must be absolute", m.path)
			continue
		}
		if first, ok := byPath[clean]; ok {
			ps.add(m.field, "Found duplicated mountPath: '%s' (also used by %s)", clean, first)
			continue
		}
		byPath[clean] = m.field
	}
}
