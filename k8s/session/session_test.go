package session

import (
	"strings"
	"testing"
	"time"
)

func TestSettingsMakeExecutorsReachAndBelongToTheNotebook(t *testing.T) {
	s := &Spec{Namespace: "team-a", Pod: "jupyter-alice-0", Image: "apache/spark:4.0.4", Conf: map[string]string{"spark.executor.instances": "3"}}
	n := MakeNames(s.Pod, "run-1")
	got := Settings(s, n)
	for k, want := range map[string]string{
		"spark.master":                                    "k8s://https://kubernetes.default.svc",
		"spark.submit.deployMode":                         "client",
		"spark.driver.host":                               "jupyter-alice-0-spark.team-a.svc",
		"spark.driver.bindAddress":                        "0.0.0.0",
		"spark.driver.port":                               "7078",
		"spark.driver.blockManager.port":                  "7079",
		"spark.kubernetes.driver.pod.name":                "jupyter-alice-0",
		"spark.kubernetes.namespace":                      "team-a",
		"spark.kubernetes.container.image":                "apache/spark:4.0.4",
		"spark.kubernetes.executor.label." + LabelSession: n.ID,
		"spark.executor.instances":                        "3",
	} {
		if got[k] != want {
			t.Errorf("%s = %q, want %q", k, got[k], want)
		}
	}
	if _, ok := got["spark.kubernetes.executor.podNamePrefix"]; ok {
		t.Error("a fixed executor name prefix: a restarted kernel's executors would collide with the last ones")
	}
	if n2 := MakeNames(s.Pod, "run-2"); n2.ID == n.ID {
		t.Errorf("two sessions of one pod share names: %v %v", n, n2)
	}
	props := Properties(got)
	if !strings.HasPrefix(props, "spark.driver.bindAddress 0.0.0.0\n") || strings.Count(props, "\n") != len(got) {
		t.Errorf("spark-defaults.conf:\n%s", props)
	}
}

func TestNamesFitKubernetesAndSpark(t *testing.T) {
	long := strings.Repeat("notebook", 12) // 96 characters
	n := MakeNames(long, "run")
	if len(n.Service) > 63 || !strings.HasSuffix(n.Service, "-spark") {
		t.Errorf("service %q (%d)", n.Service, len(n.Service))
	}
	if n := MakeNames("Jupyter_Alice.0", "run"); n.Service != "jupyter-alice-0-spark" {
		t.Errorf("service %q", n.Service)
	}
	// A Service's name must start with a letter; a pod's need not.
	if n := MakeNames("1nb", "run"); n.Service != "nb-1nb-spark" {
		t.Errorf("service %q", n.Service)
	}
}

func TestCheckRefusesWithTheFieldAndTheReason(t *testing.T) {
	ok := Spec{Namespace: "default", Pod: "nb", Image: "apache/spark:4.0.4"}
	if err := Check(&ok); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(*Spec)
		want   string
	}{
		{"no pod", func(s *Spec) { s.Pod = "" }, "invalid session (1 problem):\nsession.pod: is required"},
		{"bad pod name", func(s *Spec) { s.Pod = "NB_1" }, `"NB_1" is not a pod name`},
		{"no image", func(s *Spec) { s.Image = "" }, "session.image"},
		{"pod in another namespace", func(s *Spec) { s.PodNamespace = "team-b" },
			`session.podNamespace: the pod is in "team-b", the session in "default"`},
		{"negative max duration", func(s *Spec) { s.MaxDuration = -time.Second }, "session.maxDuration"},
		{"a secret in the settings", func(s *Spec) { s.Conf = map[string]string{"spark.hadoop.fs.s3a.secret.key": "wJalr"} },
			"session.conf[spark.hadoop.fs.s3a.secret.key]: looks like a secret"},
		{"a setting the session owns", func(s *Spec) { s.Conf = map[string]string{"spark.driver.host": "x"} },
			"session.conf[spark.driver.host]: is set by the session: executors reach the notebook through the session's Service"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ok
			tc.mutate(&s)
			err := Check(&s)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Check = %v, want it to say %q", err, tc.want)
			}
		})
	}
}
