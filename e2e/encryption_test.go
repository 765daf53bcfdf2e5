package e2e

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/client"

	"github.com/kindling-dev/kindling/internal/codec"
	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/workflows"
)

// payloadsHold tells whether any payload of a `temporal workflow show -o json` history (its
// "data" fields, base64) holds text.
func payloadsHold(t *testing.T, history, text string) bool {
	t.Helper()
	var doc any
	if err := json.Unmarshal([]byte(history), &doc); err != nil {
		t.Fatalf("history is not JSON: %v", err)
	}
	found := false
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "data" {
					if b, err := base64.StdEncoding.DecodeString(s); err == nil && strings.Contains(string(b), text) {
						found = true
					}
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	return found
}

// With payload encryption on, a job's spec and its failure messages are in Temporal's history
// only as ciphertext; the job still runs, the CLI still shows its status (with the keys, or
// through the codec server without them), and the codec server decodes what the UI asks.
func TestEncryptedPayloadsStayOutOfHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	keys := "k1:" + base64.StdEncoding.EncodeToString(key)
	withKeys := []string{codec.EnvKeys + "=" + keys}
	queue := "kindling-e2e-encrypted-" + uuid.NewString()[:8]
	newOwnWorker(t, queue, withKeys...)

	secret := "sentinel-" + uuid.NewString()
	spec := testJob(t, map[string]string{"emulator.kindling.dev/duration": "2s"}, func(s *job.JobSpec) {
		s.SparkConf = map[string]string{"spark.app.marker": secret}
		s.Arguments = []string{secret}
	})
	path := jobFile(t, spec)
	id := "e2e-encrypted-" + uuid.NewString()[:8]
	if out, code := kindlingEnv(t, withKeys, "submit", "-f", path, "--id", id, "--task-queue", queue, "--wait"); code != 0 || !strings.Contains(out, workflows.StateCompleted) {
		t.Fatalf("the encrypted job did not complete (exit %d)", code)
	}
	if out, code := kindlingEnv(t, withKeys, "status", id); code != 0 || !strings.Contains(out, workflows.StateCompleted) {
		t.Errorf("status with the keys: exit %d", code)
	}

	// What anyone with access to Temporal sees: no spec field in clear text.
	show := func(args ...string) string {
		out, err := exec.Command(stack.tools["TEMPORAL"], append([]string{"workflow", "show", "-w", id, "-o", "json"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("temporal workflow show: %v\n%s", err, out)
		}
		return string(out)
	}
	raw := show()
	if strings.Contains(raw, secret) || payloadsHold(t, raw, secret) {
		t.Errorf("`temporal workflow show` holds the job's sparkConf value in clear text")
	}
	if !strings.Contains(raw, base64.StdEncoding.EncodeToString([]byte(codec.EncodingEncrypted))) {
		t.Errorf("no payload of the history is marked %s", codec.EncodingEncrypted)
	}

	// The codec server: the CLI without the keys reads status through it, and the temporal
	// CLI (as the UI would) decodes the history with it.
	addr := freeAddr(t)
	srv := exec.Command(stack.cliBin, "codec-server", "--listen", addr, "--ui-origin", "http://127.0.0.1:8233")
	srv.Env = append(os.Environ(), withKeys...)
	stderr, _ := srv.StderrPipe()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Process.Signal(os.Interrupt); _ = srv.Wait() })
	if line, err := bufio.NewReader(stderr).ReadString('\n'); err != nil || !strings.Contains(line, "codec-server on http://"+addr) {
		t.Fatalf("codec-server did not start: %q %v", line, err)
	}
	endpoint := "http://" + addr + "/{namespace}"
	if out, code := kindlingEnv(t, nil, "status", id, "--codec-endpoint", endpoint); code != 0 || !strings.Contains(out, workflows.StateCompleted) {
		t.Errorf("status through the codec server: exit %d", code)
	}
	// The temporal CLI does not fill in {namespace}: it gets the namespace's URL.
	if decoded := show("--codec-endpoint", "http://"+addr+"/default"); !payloadsHold(t, decoded, secret) {
		t.Errorf("the history decoded through the codec server lacks the job's sparkConf value")
	}

	// A failure message is encrypted too: an invalid spec's message names the bad value.
	dc, fc, err := codec.Settings{Keys: keys}.Converters("default")
	if err != nil {
		t.Fatal(err)
	}
	enc, err := client.NewClientFromExisting(stack.temporal, client.Options{DataConverter: dc, FailureConverter: fc})
	if err != nil {
		t.Fatal(err)
	}
	bad := testJob(t, nil, func(s *job.JobSpec) { s.Driver.Memory = secret })
	badID := "e2e-encrypted-invalid-" + uuid.NewString()[:8]
	run, err := enc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: badID, TaskQueue: queue}, workflows.WorkflowName, bad, workflows.Carry{})
	if err != nil {
		t.Fatal(err)
	}
	gctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	err = run.Get(gctx, nil)
	if err == nil || !strings.Contains(err.Error(), secret) {
		t.Fatalf("the invalid job's error, decoded with the keys, should name the bad value: %v", err)
	}
	out, _ := exec.Command(stack.tools["TEMPORAL"], "workflow", "show", "-w", badID, "-o", "json").CombinedOutput()
	if strings.Contains(string(out), secret) {
		t.Errorf("the failure message is in the history in clear text")
	}
}
