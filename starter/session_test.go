package main

import (
	"strings"
	"testing"

	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/k8s/render"
	"github.com/kindling-dev/kindling/k8s/session"
)

func TestConnectJobIsAConnectServerWithItsPort(t *testing.T) {
	js, err := connectJob(session.Spec{Namespace: "team-a", Image: "apache/spark:4.0.4"}, connectOptions{name: "connect", serviceAccount: "spark"})
	if err != nil {
		t.Fatal(err)
	}
	if js.MainClass != render.ConnectServerClass || js.SparkVersion != "4.0.4" ||
		js.MainApplicationFile != "local:///opt/spark/jars/spark-connect_2.13-4.0.4.jar" || js.Driver.ServiceAccount != "spark" {
		t.Errorf("job %+v", js)
	}
	job.Default(&js)
	r, err := render.Attempt(&js, render.Options{WorkflowID: "w", RunID: "r", Attempt: 1})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range r.Service.Spec.Ports {
		found = found || (p.Name == "spark-connect" && p.Port == 15002)
	}
	if !found || !strings.Contains(r.ConfigMap.Data[render.SparkPropertiesFile], "spark.connect.grpc.binding.port=15002") {
		t.Errorf("service ports %v; properties:\n%s", r.Service.Spec.Ports, r.ConfigMap.Data[render.SparkPropertiesFile])
	}
	if got := render.ServiceName(r.Names.DriverPod, r.AppID); got != r.Service.Name {
		t.Errorf("ServiceName = %q, the service is %q", got, r.Service.Name)
	}
}

func TestConnectJobRefusesWhatHasNoServer(t *testing.T) {
	for _, tc := range []struct {
		image, version, want string
	}{
		{"registry.example.com/spark:latest", "", "has no version in its tag"},
		{"apache/spark:3.5.3", "", "ships in the Spark 4 image"},
	} {
		if _, err := connectJob(session.Spec{Image: tc.image}, connectOptions{sparkVersion: tc.version}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.image, err, tc.want)
		}
	}
}
