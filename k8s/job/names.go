package job

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strconv"
	"strings"
)

// Names of one attempt's objects; all valid DNS-1123, at most 63 characters.
type Names struct {
	AppID          string
	ResourcePrefix string
	DriverPod      string
	Service        string
	ConfigMap      string
	ExecutorPrefix string
}

const (
	// MaxNameLen is the longest name of a label-named object (DNS-1123 label).
	MaxNameLen = 63
	// The resource prefix leaves room for "-driver-svc" and for Spark's executor pod names,
	// "<prefix>-exec-<id>" with ids of up to 17 digits.
	maxPrefixLen  = 40
	prefixHashLen = 8
)

var (
	nonNameChars = regexp.MustCompile(`[^a-z0-9-]+`)
	dashes       = regexp.MustCompile(`-+`)
)

// RunKey is what one workflow run's names, app ids and run label derive from: the workflow
// ID and the run ID, so a Reset, a re-run under the same workflow ID or a continue-as-new
// gets names of its own and never takes over another run's objects. Runs recorded before
// runs had their own identity give no run ID, and keep the workflow ID alone.
func RunKey(workflowID, runID string) string {
	if runID == "" {
		return workflowID
	}
	return workflowID + "\x00" + runID
}

// RunLabel is the value of LabelRun for a run key (RunKey): a short hash, because an ID may
// hold characters and lengths a label value cannot.
func RunLabel(runKey string) string { return shortHash("run", runKey) }

// WorkflowLabel is the value of LabelWorkflow: every run of a workflow shares it.
func WorkflowLabel(workflowID string) string { return shortHash("workflow", workflowID) }

func shortHash(kind, s string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + s))
	return hex.EncodeToString(sum[:])[:16]
}

// AttemptSelector selects every object of one attempt of a run: what cleanup deletes.
func AttemptSelector(runKey string, attempt int) string {
	return LabelRun + "=" + RunLabel(runKey) + "," + LabelAttempt + "=" + strconv.Itoa(attempt)
}

// AppID is the Spark application id of one attempt: "spark-" and 32 hex digits, as Spark's
// KubernetesConf.getKubernetesAppId makes it, but derived from the run (RunKey) and attempt so
// a replayed render gives the same id.
func AppID(runKey string, attempt int) string {
	sum := sha256.Sum256([]byte("app\x00" + runKey + "\x00" + strconv.Itoa(attempt)))
	return "spark-" + hex.EncodeToString(sum[:16])
}

// MakeNames derives the names of one attempt's objects. The same inputs always give the same
// names; every name is a valid DNS-1123 label whatever the job name holds.
func MakeNames(jobName, runKey string, attempt int) Names {
	appID := AppID(runKey, attempt)
	base := sanitizeName(jobName)
	if max := maxPrefixLen - 1 - prefixHashLen; len(base) > max {
		base = strings.TrimRight(base[:max], "-")
	}
	if base == "" {
		base = "spark"
	}
	// The hash comes from the app id, so each attempt gets fresh names.
	prefix := base + "-" + appID[len("spark-"):len("spark-")+prefixHashLen]
	return Names{
		AppID:          appID,
		ResourcePrefix: prefix,
		DriverPod:      prefix + "-driver",
		Service:        prefix + "-driver-svc",
		ConfigMap:      prefix + "-conf",
		ExecutorPrefix: prefix,
	}
}

// sanitizeName lower-cases a name and turns every run of characters a DNS-1123 label cannot
// hold into one dash, as Spark's KubernetesConf.getResourceNamePrefix does.
func sanitizeName(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = nonNameChars.ReplaceAllString(s, "-")
	s = dashes.ReplaceAllString(s, "-")
	return strings.Trim(s, "-")
}

// AppNameLabel is the value of spark-app-name for a job name, made the way Spark makes it: lower case,
// runs of other characters to one dash, cut to 63 and trimmed of dashes at both ends.
func AppNameLabel(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = nonNameChars.ReplaceAllString(s, "-")
	s = dashes.ReplaceAllString(s, "-")
	if len(s) > MaxNameLen {
		s = s[:MaxNameLen]
	}
	return strings.Trim(s, "-")
}
