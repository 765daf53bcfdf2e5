package e2e

import (
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kindling-dev/kindling/activities"
	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/workflows"
)

// otlpReceiver is an OTLP/HTTP trace receiver: it keeps every span's name and service by
// trace ID.
type otlpReceiver struct {
	mu    sync.Mutex
	spans map[string][]string // trace ID → "service: span name"
}

func (r *otlpReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	var in coltrace.ExportTraceServiceRequest
	if req.URL.Path != "/v1/traces" || proto.Unmarshal(body, &in) != nil {
		http.Error(w, "want OTLP protobuf at /v1/traces", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	for _, rs := range in.GetResourceSpans() {
		service := ""
		for _, a := range rs.GetResource().GetAttributes() {
			if a.GetKey() == "service.name" {
				service = a.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				id := hex.EncodeToString(s.GetTraceId())
				r.spans[id] = append(r.spans[id], service+": "+s.GetName())
			}
		}
	}
	r.mu.Unlock()
	out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func (r *otlpReceiver) trace(id string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.spans[id]...)
}

// With OTEL_EXPORTER_OTLP_ENDPOINT set, one trace runs from `kindling submit` through the
// workflow and its activities to the Kubernetes calls of create and cleanup; its ID is in the
// job's result and on the driver pod.
func TestOneTraceFromSubmitToCleanup(t *testing.T) {
	t.Parallel()
	recv := &otlpReceiver{spans: map[string][]string{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: recv, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	otelEnv := []string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://" + ln.Addr().String(), "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf", "OTEL_BSP_SCHEDULE_DELAY=200"}
	queue := "kindling-e2e-traced-" + uuid.NewString()[:8]
	newOwnWorker(t, queue, otelEnv...)

	spec := testJob(t, map[string]string{"emulator.kindling.dev/duration": "3s"})
	path := jobFile(t, spec)
	id := "e2e-traced-" + uuid.NewString()[:8]
	// The driver pod names its trace while it runs.
	annotation := make(chan string, 1)
	go func() {
		deadline := time.Now().Add(2 * time.Minute)
		for time.Now().Before(deadline) {
			pods, err := stack.kube.Kube.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{
				LabelSelector: job.LabelWorkflow + "=" + job.WorkflowLabel(id) + "," + job.LabelSparkRole + "=driver"})
			if err == nil && len(pods.Items) > 0 {
				annotation <- pods.Items[0].Annotations[activities.AnnotationTraceID]
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
		annotation <- ""
	}()
	out, code := kindlingEnv(t, otelEnv, "submit", "-f", path, "--id", id, "--task-queue", queue, "--wait", "-o", "json")
	if code != 0 {
		t.Fatalf("submit exited %d", code)
	}
	var res workflows.JobResult
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):strings.LastIndex(out, "}")+1]), &res); err != nil {
		t.Fatalf("result: %v", err)
	}
	if res.TraceID == "" || !strings.Contains(out, "trace "+res.TraceID) {
		t.Fatalf("the result carries no trace ID, or submit did not print it: %q", res.TraceID)
	}
	if got := <-annotation; got != res.TraceID {
		t.Errorf("the driver pod's %s is %q, want the job's trace %s", activities.AnnotationTraceID, got, res.TraceID)
	}
	want := []string{
		"kindling: kindling submit",
		"kindling: StartWorkflow:SparkJob",
		"kindling-worker: RunWorkflow:SparkJob",
		"kindling-worker: RunActivity:CreateResources",
		"kindling-worker: kubernetes: create driver Pod",
		"kindling-worker: RunActivity:Supervise",
		"kindling-worker: RunActivity:Cleanup",
		"kindling-worker: kubernetes: delete driver Pod",
	}
	var spans []string
	waitFor(t, 30*time.Second, "the job's spans to reach the receiver", func() bool {
		spans = recv.trace(res.TraceID)
		for _, w := range want {
			found := false
			for _, s := range spans {
				found = found || strings.HasPrefix(s, w)
			}
			if !found {
				return false
			}
		}
		return true
	})
}
