// Package session is the model of a client-mode Spark session: a notebook (or any pod) is the
// driver, and Kindling gives it what Spark's submission client would have made — a headless
// Service that selects only that pod, and the settings that make executors reach it, be owned
// by it and carry the session's label. Pure: no cluster.
package session

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/k8s/render"
)

// Spec is a session to start.
type Spec struct {
	// Namespace is the session's: where the executors run (spark.kubernetes.namespace).
	Namespace string `json:"namespace"`
	// Pod is the notebook pod, the driver, and PodNamespace its namespace ("" is Namespace).
	// Spark looks the driver pod up in spark.kubernetes.namespace, so they must be one: with
	// another Spark fails later ("No pod was found named … in the namespace … (this was
	// supposed to be the driver pod.)"); the session refuses it at once.
	Pod          string `json:"pod"`
	PodNamespace string `json:"podNamespace,omitempty"`
	// Image of the executors (spark.kubernetes.container.image); required.
	Image string `json:"image"`
	// MaxDuration ends the session after this long (0: DefaultMaxDuration); IdleTimeout ends it
	// when it has had no executor for this long (0: DefaultIdleTimeout; negative: never).
	MaxDuration time.Duration `json:"maxDuration,omitempty"`
	IdleTimeout time.Duration `json:"idleTimeout,omitempty"`
	// Conf is extra Spark settings to hand out with the session's own.
	Conf map[string]string `json:"conf,omitempty"`
}

// Defaults.
const (
	DefaultMaxDuration = 12 * time.Hour
	DefaultIdleTimeout = time.Hour
	// DriverPort and BlockManagerPort are fixed, as the headless Service must name them
	// (Spark's own are random unless set); 7078 and 7079 by convention.
	DriverPort       = 7078
	BlockManagerPort = 7079
	UIPort           = 4040
	// LabelSession marks the session's executors; LabelSessionDriver the notebook pod alone,
	// which the Service selects by (executors must never answer for the driver).
	LabelSession       = "kindling.dev/session"
	LabelSessionDriver = "kindling.dev/session-driver"
)

// Names are the objects of a session.
type Names struct {
	ID        string // the label value: a short hash of the session's run
	Service   string // <pod>-spark, cut to 63 (a DNS-1035 label: it starts with a letter)
	ConfigMap string // <pod>-spark-conf
}

// MakeNames derives a session's names from its pod and its workflow ID.
func MakeNames(pod, workflowID string) Names {
	sum := sha256.Sum256([]byte("session:" + workflowID))
	id := hex.EncodeToString(sum[:6])
	base := strings.Trim(nonName.ReplaceAllString(strings.ToLower(pod), "-"), "-")
	cut := func(s string, n int) string {
		if len(s) > n {
			s = strings.TrimRight(s[:n], "-")
		}
		return s
	}
	if base == "" || base[0] < 'a' || base[0] > 'z' {
		base = "nb-" + base // a Service's name starts with a letter
	}
	return Names{
		ID:        id,
		Service:   cut(base, validation.DNS1035LabelMaxLength-len("-spark")) + "-spark",
		ConfigMap: cut(base, 200) + "-spark-conf",
	}
}

var nonName = regexp.MustCompile(`[^a-z0-9-]+`)

// Check names every problem of a spec, before anything is created.
func Check(s *Spec) error {
	var errs field.ErrorList
	p := field.NewPath("session")
	if s.Pod == "" {
		errs = append(errs, job.Invalid(p.Child("pod"), "is required: the notebook pod that is the driver"))
	} else if msgs := validation.IsDNS1123Subdomain(s.Pod); len(msgs) > 0 {
		errs = append(errs, job.Invalid(p.Child("pod"), "%q is not a pod name: %s", s.Pod, strings.Join(msgs, "; ")))
	}
	if s.Namespace == "" {
		errs = append(errs, job.Invalid(p.Child("namespace"), "is required"))
	}
	if s.PodNamespace != "" && s.PodNamespace != s.Namespace {
		errs = append(errs, job.Invalid(p.Child("podNamespace"),
			"the pod is in %q, the session in %q: Spark creates the executors in the session's namespace and looks the driver pod up there, and would fail with \"No pod was found named %s in the namespace %s\"; start the session in %q",
			s.PodNamespace, s.Namespace, s.Pod, s.Namespace, s.PodNamespace))
	}
	if s.Image == "" {
		errs = append(errs, job.Invalid(p.Child("image"), "is required: the executors' image (spark.kubernetes.container.image), the Spark version of the notebook's"))
	}
	if s.MaxDuration < 0 {
		errs = append(errs, job.Invalid(p.Child("maxDuration"), "must be 0 (the default, %s) or more", DefaultMaxDuration))
	}
	for k := range s.Conf {
		if _, ok := reserved[k]; ok {
			errs = append(errs, job.Invalid(p.Child("conf").Key(k), "is set by the session: %s", reserved[k]))
		}
	}
	// A session's settings are in its history and in a plain ConfigMap: no secrets.
	for _, e := range render.SecretSettings(&job.JobSpec{SparkApplicationSpec: job.SparkApplicationSpec{SparkConf: s.Conf}}) {
		errs = append(errs, job.Invalid(p.Child("conf").Key(strings.TrimSuffix(strings.TrimPrefix(e.Field, "spec.sparkConf["), "]")),
			"looks like a secret: a session's settings are kept in its history and in a plain ConfigMap; give it to the notebook from a Secret"))
	}
	err := job.Errors(errs)
	var ve *job.ValidationError
	if errors.As(err, &ve) {
		ve.What = "session"
	}
	return err
}

// reserved are the settings a session hands out itself, and why.
var reserved = map[string]string{
	"spark.driver.host":                "executors reach the notebook through the session's Service",
	"spark.driver.port":                "the Service names the port",
	"spark.driver.blockManager.port":   "the Service names the port",
	"spark.kubernetes.driver.pod.name": "the notebook pod owns the executors",
	"spark.kubernetes.namespace":       "the notebook pod's namespace",
}

// Settings are what the notebook's Spark must be started with: executors reach it through the
// Service by DNS on fixed ports, are owned by the pod (spark.kubernetes.driver.pod.name) so
// they go when it goes, and carry the session's label so the session counts and removes them.
// The executor name prefix is left to Spark, whose default is unique per application: a
// kernel restarted in the same session starts a new SparkContext whose executors must not
// take the names of the last one's, still terminating.
func Settings(s *Spec, n Names) map[string]string {
	out := map[string]string{}
	for k, v := range s.Conf {
		out[k] = v
	}
	for k, v := range map[string]string{
		"spark.master":                                    "k8s://https://kubernetes.default.svc",
		"spark.submit.deployMode":                         "client",
		"spark.driver.host":                               fmt.Sprintf("%s.%s.svc", n.Service, s.Namespace),
		"spark.driver.bindAddress":                        "0.0.0.0",
		"spark.driver.port":                               fmt.Sprint(DriverPort),
		"spark.driver.blockManager.port":                  fmt.Sprint(BlockManagerPort),
		"spark.kubernetes.driver.pod.name":                s.Pod,
		"spark.kubernetes.namespace":                      s.Namespace,
		"spark.kubernetes.container.image":                s.Image,
		"spark.kubernetes.executor.label." + LabelSession: n.ID,
	} {
		out[k] = v
	}
	return out
}

// Properties is settings as a spark-defaults.conf file, sorted.
func Properties(settings map[string]string) string {
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s %s\n", k, settings[k])
	}
	return b.String()
}
