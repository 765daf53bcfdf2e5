package workflows

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/kindling-dev/kindling/internal/codec"
)

// TestReplayHistories replays every saved history against today's workflow code, so a change
// that would break running jobs (a new command, a reordered activity) fails here. Histories
// come from `temporal workflow show --output json` (the e2e suite) or from record_test.go.
func TestReplayHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "histories", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no histories in testdata/histories: the replay test would prove nothing")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			h, err := client.HistoryFromJSON(mustOpen(t, f), client.HistoryJSONOptions{})
			if err != nil {
				t.Fatal(err)
			}
			r := worker.NewWorkflowReplayer()
			Register(r)
			// A worker with payload encryption on replays histories written without it: the
			// codec passes unencrypted payloads through.
			keys, err := codec.FromEnv("k1:" + base64.StdEncoding.EncodeToString(make([]byte, 32)))
			if err != nil {
				t.Fatal(err)
			}
			dc := codec.DataConverter(codec.New(keys))
			encrypted, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: dc, FailureConverter: codec.FailureConverter(dc)})
			if err != nil {
				t.Fatal(err)
			}
			Register(encrypted)
			// A pipeline's children are named after its workflow ID, which a history does not
			// hold: it is read back from the first child's ID.
			opts := worker.ReplayWorkflowHistoryOptions{}
			for _, e := range h.GetEvents() {
				if c := e.GetStartChildWorkflowExecutionInitiatedEventAttributes(); c != nil {
					if id, _, ok := strings.Cut(c.GetWorkflowId(), "/"); ok {
						opts.OriginalExecution = workflow.Execution{ID: id}
					}
					break
				}
			}
			if err := r.ReplayWorkflowHistoryWithOptions(nil, h, opts); err != nil {
				t.Fatalf("replay %s: %v", f, err)
			}
			// A history of its own: a replay writes its upserts into the started event's search
			// attributes, which the workflow reads at start.
			fresh, err := client.HistoryFromJSON(mustOpen(t, f), client.HistoryJSONOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := encrypted.ReplayWorkflowHistoryWithOptions(nil, fresh, opts); err != nil {
				t.Fatalf("replay %s with payload encryption on: %v", f, err)
			}
		})
	}
}

func mustOpen(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
