package workflows

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/kindling-dev/kindling/activities"
)

// serverClient dials the Temporal server of the local stack, for the tests that need a real
// one: the test environment cannot show what a server does with a cancel that races an
// activity.
func serverClient(t *testing.T) client.Client {
	t.Helper()
	if os.Getenv("KINDLING_E2E") != "1" {
		t.Skip("needs the local stack's Temporal server: make test (KINDLING_E2E=1)")
	}
	addr := os.Getenv("TEMPORAL_ADDRESS")
	if addr == "" {
		addr = "127.0.0.1:7233"
	}
	return dial(t, addr)
}

// slowCreate is a Kubernetes stand-in whose CreateResources takes seconds and, like a real
// create in flight, does not stop when the workflow is cancelled.
type slowCreate struct {
	fakeKube
	started chan struct{}
	mu      sync.Mutex
	events  []string
}

func (f *slowCreate) CreateResources(ctx context.Context, in activities.CreateInput) (activities.CreateOutput, error) {
	close(f.started)
	time.Sleep(3 * time.Second)
	f.mu.Lock()
	f.events = append(f.events, "create ended")
	f.mu.Unlock()
	return activities.CreateOutput{DriverPod: in.Rendered.Names.DriverPod, DriverUID: "uid-1"}, nil
}

func (f *slowCreate) Cleanup(_ context.Context, in activities.CleanupInput) error {
	f.mu.Lock()
	f.events = append(f.events, "cleanup "+in.Selector)
	f.mu.Unlock()
	return nil
}

// A cancel while Create is creating: Cleanup starts only once Create has ended, so a driver
// created after Cleanup looked cannot be left behind.
func TestCancelDuringCreateOnARealServer(t *testing.T) {
	c := serverClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	registerSearchAttributes(ctx, t, c)

	f := &slowCreate{started: make(chan struct{})}
	queue := startWorker(t, c, f.FetchDependencies, f.CreateResources, f.fakeKube.Supervise, f.Cleanup)

	id := fmt.Sprintf("cancel-during-create-%d", time.Now().UnixNano())
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, WorkflowName, recordSpec("success"))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-f.started:
	case <-ctx.Done():
		t.Fatal("CreateResources never started")
	}
	if err := c.CancelWorkflow(ctx, id, ""); err != nil {
		t.Fatal(err)
	}
	err = run.Get(ctx, nil)
	if !temporal.IsCanceledError(err) {
		t.Fatalf("want the job Canceled, got %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.events) != 2 || f.events[0] != "create ended" {
		t.Fatalf("events %q: Cleanup must start only after Create ended", f.events)
	}
}

// A namespace without Kindling's search attributes makes the worker refuse to start, with
// the command that registers them; the local stack's namespace has them.
func TestCheckSearchAttributesOnARealServer(t *testing.T) {
	c := serverClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	registerSearchAttributes(ctx, t, c)
	if err := CheckSearchAttributes(ctx, c, "default"); err != nil {
		t.Fatalf("the stack's namespace: %v", err)
	}

	const bare = "kindling-unprepared"
	_, err := c.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace: bare, WorkflowExecutionRetentionPeriod: durationpb.New(24 * time.Hour)})
	var exists *serviceerror.NamespaceAlreadyExists
	if err != nil && !errors.As(err, &exists) {
		t.Fatal(err)
	}
	err = CheckSearchAttributes(ctx, c, bare)
	if err == nil {
		t.Fatal("a namespace without Kindling's search attributes passed the check")
	}
	want := "temporal operator search-attribute create --namespace kindling-unprepared --name KindlingAppId --type Keyword --name KindlingAttempt --type Int"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not give the command %q", err, want)
	}
}
