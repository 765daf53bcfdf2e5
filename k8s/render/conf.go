package render

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kindling-dev/kindling/k8s/job"
)

// Paths inside the driver where Spark reads what the conf ConfigMap carries.
const (
	SparkConfDir            = "/opt/spark/conf"
	SparkPropertiesFile     = "spark.properties"
	SparkConfVolume         = "spark-conf-volume-driver"
	PodTemplateDir          = "/opt/spark/pod-template"
	PodTemplateFile         = "pod-spec-template.yml"
	PodTemplateVolume       = "pod-template-volume"
	DefaultDriverPort       = 7078
	DefaultBlockManagerPort = 7079
	DefaultUIPort           = 4040
	kubernetesMasterURL     = "k8s://https://kubernetes.default.svc:443"
)

// baseConf is the Spark conf of the job as a whole: the user's sparkConf with the job-wide
// fields laid over it, as the operator's spark-submit arguments do (spec fields win). Each
// feature's conf adds its own fields' keys after this.
func baseConf(s *job.JobSpec) map[string]string {
	c := maps.Clone(s.SparkConf)
	if c == nil {
		c = map[string]string{}
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
	set(confMemoryOverheadFactor, s.MemoryOverheadFactor)
	set("spark.kubernetes.resource.type", resourceType(s.Type))
	for k, v := range s.NodeSelector {
		c["spark.kubernetes.node.selector."+k] = v
	}
	return c
}

func resourceType(t job.ApplicationType) string {
	switch t {
	case job.TypePython:
		return "python"
	case job.TypeR:
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

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
