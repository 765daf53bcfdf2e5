package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/kindling-dev/kindling/internal/crashpoint"
	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/workflows"
)

// ownWorker is a kindling-worker process on a task queue of its own, so a test can kill it.
type ownWorker struct {
	t     *testing.T
	queue string
	logs  string
	env   []string
	cmd   *exec.Cmd
	exit  chan struct{}
}

func newOwnWorker(t *testing.T, queue string, env ...string) *ownWorker {
	w := &ownWorker{t: t, queue: queue, logs: filepath.Join(t.TempDir(), "worker.log"), env: env}
	t.Cleanup(func() {
		w.stop()
		if t.Failed() {
			b, _ := os.ReadFile(w.logs)
			t.Logf("worker log:\n%s", b)
		}
	})
	w.start()
	return w
}

func (w *ownWorker) start() {
	f, err := os.OpenFile(w.logs, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		w.t.Fatal(err)
	}
	// No sweep schedule: nothing polls this queue once the test ends.
	args := []string{"--task-queue", w.queue, "--sweep-every", "0"}
	if !slices.ContainsFunc(w.env, func(e string) bool { return strings.HasPrefix(e, "KINDLING_LOG_LEVEL=") }) {
		args = append(args, "--log-level", "warn")
	}
	if !slices.ContainsFunc(w.env, func(e string) bool { return strings.HasPrefix(e, "KINDLING_HTTP_ADDRESS=") }) {
		args = append(args, "--http-address", "127.0.0.1:0") // many workers, one machine
	}
	cmd := exec.Command(stack.workerBin, args...)
	cmd.Env = append(os.Environ(), w.env...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	exit := make(chan struct{})
	go func() { _ = cmd.Wait(); _ = f.Close(); close(exit) }()
	w.cmd, w.exit = cmd, exit
}

// kill sends SIGKILL and waits for the process to end.
func (w *ownWorker) kill() {
	_ = w.cmd.Process.Signal(syscall.SIGKILL)
	<-w.exit
}

// died waits for the worker to end by itself (a crash point).
func (w *ownWorker) died(timeout time.Duration, what string) {
	select {
	case <-w.exit:
		w.t.Logf("worker killed itself %s (%s)", what, w.cmd.ProcessState)
	case <-time.After(timeout):
		w.t.Fatalf("the worker did not crash %s within %s", what, timeout)
	}
}

func (w *ownWorker) stop() {
	if w.cmd == nil {
		return
	}
	select {
	case <-w.exit:
	default:
		_ = w.cmd.Process.Signal(syscall.SIGTERM)
		<-w.exit
	}
}

// driverCounter counts, every half second until stopped, the live driver pods of each attempt
// of a workflow and keeps the most it saw at once.
type driverCounter struct {
	mu   sync.Mutex
	most map[string]int // attempt label → most drivers seen at once
	stop chan struct{}
	done chan struct{}
}

func countDrivers(t *testing.T, workflowID string) *driverCounter {
	c := &driverCounter{most: map[string]int{}, stop: make(chan struct{}), done: make(chan struct{})}
	sel := job.LabelWorkflow + "=" + job.WorkflowLabel(workflowID)
	go func() {
		defer close(c.done)
		for {
			now := map[string]int{}
			for _, p := range driverPods(t, sel) {
				if p.DeletionTimestamp == nil {
					now[p.Labels[job.LabelAttempt]]++
				}
			}
			c.mu.Lock()
			for a, n := range now {
				c.most[a] = max(c.most[a], n)
			}
			c.mu.Unlock()
			select {
			case <-c.stop:
				return
			case <-time.After(500 * time.Millisecond):
			}
		}
	}()
	return c
}

// assertOnePerAttempt stops the counter and fails the test if an attempt ever had two drivers.
func (c *driverCounter) assertOnePerAttempt(t *testing.T) {
	t.Helper()
	close(c.stop)
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	for a, n := range c.most {
		if n > 1 {
			t.Errorf("attempt %s had %d driver pods at once; want one", a, n)
		}
	}
}

// A worker killed with SIGKILL at any point of a job's work is replaced, and the job still
// ends as it should: one attempt, one driver, nothing left behind.
func TestWorkerKilledAtACrashPointLeavesOneDriver(t *testing.T) {
	t.Parallel()
	for _, point := range []string{crashpoint.AfterConfigMap, crashpoint.AfterDriverPod, crashpoint.CleanupAfterDelete} {
		name := strings.NewReplacer(":", "-").Replace(point)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			queue := stack.taskQueue + "-" + name
			w := newOwnWorker(t, queue, "KINDLING_CRASH_AT="+point, "KINDLING_CRASH_MARKER="+filepath.Join(t.TempDir(), "crashed"))
			spec := testJob(t, nil, func(s *job.JobSpec) { s.Name = "e2e-crash-" + name })
			run := start(t, spec, queue)
			drivers := countDrivers(t, run.GetID())
			w.died(2*time.Minute, "at "+point)
			// The new worker has the same environment; the marker lets it pass the point.
			w.start()
			assertResumed(t, run, drivers, 1)
		})
	}
}

// A worker killed while a job waits between two attempts: the timer lives in Temporal, the
// next worker starts the second attempt on time, and the first attempt's driver is gone.
func TestWorkerKilledBetweenAttempts(t *testing.T) {
	t.Parallel()
	w := newOwnWorker(t, stack.taskQueue+"-between")
	spec := testJob(t, map[string]string{"emulator.kindling.dev/oom-below": "1000Mi"}, func(s *job.JobSpec) {
		retries, interval := int32(2), int64(15)
		s.RestartPolicy = job.RestartPolicy{Type: job.RestartOnFailure, OnFailureRetries: &retries, OnFailureRetryInterval: &interval}
	})
	run := start(t, spec, w.queue)
	drivers := countDrivers(t, run.GetID())
	waitFor(t, 2*time.Minute, "the wait between attempts", func() bool {
		st, err := queryStatus(run)
		return err == nil && st.Stage == workflows.StageWaitingRetry
	})
	w.kill()
	t.Log("worker killed with SIGKILL between attempts")
	w.start()
	assertResumed(t, run, drivers, 2)
}

// assertResumed waits for a job whose worker was killed and started again, and checks it
// COMPLETED in want attempts, never had two drivers for one attempt, and left nothing.
func assertResumed(t *testing.T, run client.WorkflowRun, drivers *driverCounter, want int) {
	t.Helper()
	res, err := result(t, run, 6*time.Minute)
	drivers.assertOnePerAttempt(t)
	if err != nil {
		t.Fatal(err)
	}
	if res.State != workflows.StateCompleted || len(res.Attempts) != want {
		t.Fatalf("state %s after %d attempts (%s): want COMPLETED in %d", res.State, len(res.Attempts), res.Reason, want)
	}
	assertNothingLeft(t, run.GetID(), res)
}
