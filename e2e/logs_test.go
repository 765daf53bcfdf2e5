package e2e

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/workflows"
)

// `kindling logs -f` prints the emulated driver's log as it is written (kwok serves it as the
// pod's log) and ends when the driver does; a failed job's result carries its log's end.
func TestLogsFollowTheDriverAndAFailureKeepsItsEnd(t *testing.T) {
	t.Parallel()
	spec := testJob(t, map[string]string{"emulator.kindling.dev/duration": "5s"})
	run := start(t, spec, stack.taskQueue)
	waitFor(t, 2*time.Minute, "the driver to run", func() bool {
		st, err := queryStatus(run)
		return err == nil && st.DriverPhase == "Running"
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	began := time.Now()
	out, err := exec.CommandContext(ctx, stack.cliBin, "logs", "-f", run.GetID()).CombinedOutput()
	if err != nil {
		t.Fatalf("kindling logs -f: %v\n%s", err, out)
	}
	log := string(out)
	t.Logf("kindling logs -f (%s):\n%s", time.Since(began).Round(time.Second), log)
	if !strings.Contains(log, "Running Spark version") || !strings.Contains(log, "Successfully stopped SparkContext") {
		t.Errorf("the driver's log lacks its first or last line")
	}
	if n := strings.Count(log, "Job 0 running"); n < 2 {
		t.Errorf("%d progress lines followed, want the ones written while it ran", n)
	}
	if _, err := result(t, run, time.Minute); err != nil {
		t.Fatal(err)
	}

	failing := start(t, testJob(t, map[string]string{"emulator.kindling.dev/duration": "1s", "emulator.kindling.dev/exit-code": "3"},
		func(s *job.JobSpec) { s.Name += "-fails" }), stack.taskQueue)
	res, _ := result(t, failing, 2*time.Minute)
	if res.State != workflows.StateFailed || len(res.Attempts) == 0 || !strings.Contains(res.Attempts[0].LogTail, "exits with code 3") {
		t.Errorf("the failed job's result lacks the end of its driver's log: %s %+v", res.State, res.Attempts)
	}
}
