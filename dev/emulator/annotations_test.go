package emulator

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseOutcome(t *testing.T) {
	o, err := ParseOutcome(nil)
	if err != nil {
		t.Fatalf("ParseOutcome(nil): %v", err)
	}
	if o.Duration != 5*time.Second || o.ExitCode != 0 || o.OOMBelow != nil || o.ExecutorFailures != 0 || o.ImagePullError {
		t.Errorf("ParseOutcome(nil) = %+v, want 5s, exit 0, nothing else", o)
	}

	o, err = ParseOutcome(map[string]string{
		AnnotationDuration: "1m30s", AnnotationExitCode: "3", AnnotationOOMBelow: "2Gi",
		AnnotationExecutorFailures: "2", AnnotationImagePullError: "true",
	})
	if err != nil {
		t.Fatalf("ParseOutcome(all set): %v", err)
	}
	if o.Duration != 90*time.Second || o.ExitCode != 3 || o.OOMBelow.String() != "2Gi" || o.ExecutorFailures != 2 || !o.ImagePullError {
		t.Errorf("ParseOutcome(all set) = %+v", o)
	}

	long := `{"rows": "` + strings.Repeat("9", 5000) + `"}`
	o, err = ParseOutcome(map[string]string{AnnotationTerminationMessage: long})
	if err != nil || len(o.TerminationMessage) != 4096 || o.TerminationMessage != long[:4096] {
		t.Errorf("a termination message is cut at 4096 bytes, as the kubelet cuts it: got %d bytes, %v", len(o.TerminationMessage), err)
	}
}

func TestParseOutcomeNamesTheBadAnnotation(t *testing.T) {
	tests := map[string]string{
		AnnotationDuration:         "5",
		AnnotationExitCode:         "256",
		AnnotationOOMBelow:         "lots",
		AnnotationExecutorFailures: "-1",
		AnnotationImagePullError:   "True", // kwok's stage matches only "true"
	}
	for key, value := range tests {
		_, err := ParseOutcome(map[string]string{key: value})
		var oe *OutcomeError
		if !errors.As(err, &oe) {
			t.Errorf("ParseOutcome(%s=%q) error = %v, want *OutcomeError", key, value, err)
			continue
		}
		if oe.Annotation != key {
			t.Errorf("ParseOutcome(%s=%q) blames %s", key, value, oe.Annotation)
		}
	}
}
