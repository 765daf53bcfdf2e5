package v1beta2_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kindling-dev/kindling/k8s/api/v1beta2"
	"github.com/kindling-dev/kindling/k8s/job"
)

func TestSchemeKnowsBothKindsAndTheirLists(t *testing.T) {
	scheme := runtime.NewScheme()
	require.NoError(t, v1beta2.AddToScheme(scheme))
	assert.Equal(t, "sparkoperator.k8s.io/v1beta2", v1beta2.GroupVersion.String())

	for kind, obj := range map[string]runtime.Object{
		"SparkApplication":              &v1beta2.SparkApplication{},
		"SparkApplicationList":          &v1beta2.SparkApplicationList{},
		"ScheduledSparkApplication":     &v1beta2.ScheduledSparkApplication{},
		"ScheduledSparkApplicationList": &v1beta2.ScheduledSparkApplicationList{},
	} {
		gvk := v1beta2.GroupVersion.WithKind(kind)
		assert.True(t, scheme.Recognizes(gvk), "scheme does not know %s", gvk)
		made, err := scheme.New(gvk)
		if assert.NoError(t, err, kind) {
			assert.IsType(t, obj, made, kind)
		}
		gvks, _, err := scheme.ObjectKinds(obj)
		if assert.NoError(t, err, kind) {
			assert.Equal(t, gvk, gvks[0], kind)
		}
	}
}

func TestDeepCopyObjectCopiesSpecAndStatus(t *testing.T) {
	three := int32(3)
	app := &v1beta2.SparkApplication{
		ObjectMeta: metav1.ObjectMeta{Name: "pi", Labels: map[string]string{"a": "b"}},
		Spec: job.SparkApplicationSpec{
			SparkConf: map[string]string{"spark.x": "1"},
			Executor:  job.ExecutorSpec{Instances: &three},
		},
		Status: v1beta2.SparkApplicationStatus{
			ExecutorState: map[string]v1beta2.ExecutorState{"pi-exec-1": v1beta2.ExecutorStateRunning},
		},
	}
	cp, ok := app.DeepCopyObject().(*v1beta2.SparkApplication)
	require.True(t, ok)
	require.Equal(t, app, cp)

	cp.Labels["a"] = "changed"
	cp.Spec.SparkConf["spark.x"] = "changed"
	*cp.Spec.Executor.Instances = 9
	cp.Status.ExecutorState["pi-exec-1"] = v1beta2.ExecutorStateFailed
	assert.Equal(t, "b", app.Labels["a"])
	assert.Equal(t, "1", app.Spec.SparkConf["spark.x"])
	assert.Equal(t, int32(3), *app.Spec.Executor.Instances)
	assert.Equal(t, v1beta2.ExecutorStateRunning, app.Status.ExecutorState["pi-exec-1"])

	for _, obj := range []runtime.Object{&v1beta2.SparkApplicationList{}, &v1beta2.ScheduledSparkApplication{}, &v1beta2.ScheduledSparkApplicationList{}} {
		assert.Equal(t, obj, obj.DeepCopyObject(), reflect.TypeOf(obj).String())
	}
}

// The status is what Airflow, Argo and kubectl read: its JSON must be the operator's, including
// what an empty status looks like (driverInfo has no omitempty; zero times are null).
func TestStatusJSONIsTheOperators(t *testing.T) {
	empty, err := json.Marshal(v1beta2.SparkApplicationStatus{})
	require.NoError(t, err)
	assert.JSONEq(t, `{"lastSubmissionAttemptTime":null,"terminationTime":null,"driverInfo":{},"applicationState":{"state":""}}`, string(empty))

	at := metav1.NewTime(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	full, err := json.Marshal(v1beta2.SparkApplicationStatus{
		SparkApplicationID:        "spark-123",
		SubmissionID:              "e1c6",
		LastSubmissionAttemptTime: at,
		TerminationTime:           at,
		DriverInfo: v1beta2.DriverInfo{
			WebUIServiceName: "pi-ui-svc", WebUIAddress: "10.0.0.1:4040", WebUIPort: 4040,
			WebUIIngressName: "pi-ui-ingress", WebUIIngressAddress: "pi.example.com", PodName: "pi-driver",
		},
		AppState:           v1beta2.ApplicationState{State: v1beta2.ApplicationStateFailed, ErrorMessage: "driver pod not found"},
		ExecutorState:      map[string]v1beta2.ExecutorState{"pi-exec-1": v1beta2.ExecutorStateCompleted},
		ExecutionAttempts:  2,
		SubmissionAttempts: 3,
	})
	require.NoError(t, err)
	assert.JSONEq(t, `{
		"sparkApplicationId": "spark-123",
		"submissionID": "e1c6",
		"lastSubmissionAttemptTime": "2026-11-25T10:00:00Z",
		"terminationTime": "2026-11-25T10:00:00Z",
		"driverInfo": {"webUIServiceName": "pi-ui-svc", "webUIAddress": "10.0.0.1:4040", "webUIPort": 4040,
			"webUIIngressName": "pi-ui-ingress", "webUIIngressAddress": "pi.example.com", "podName": "pi-driver"},
		"applicationState": {"state": "FAILED", "errorMessage": "driver pod not found"},
		"executorState": {"pi-exec-1": "COMPLETED"},
		"executionAttempts": 2,
		"submissionAttempts": 3
	}`, string(full))

	scheduled, err := json.Marshal(v1beta2.ScheduledSparkApplicationStatus{
		LastRun: at, NextRun: at, LastRunName: "pi-1764064800",
		PastSuccessfulRunNames: []string{"pi-1764064800"}, PastFailedRunNames: []string{"pi-1764061200"},
		ScheduleState: v1beta2.ScheduleStateScheduled, Reason: "ok",
	})
	require.NoError(t, err)
	assert.JSONEq(t, `{"lastRun":"2026-11-25T10:00:00Z","nextRun":"2026-11-25T10:00:00Z","lastRunName":"pi-1764064800",
		"pastSuccessfulRunNames":["pi-1764064800"],"pastFailedRunNames":["pi-1764061200"],"scheduleState":"Scheduled","reason":"ok"}`, string(scheduled))
}
