package job

import (
	"strings"
	"testing"
)

func TestReadForms(t *testing.T) {
	bare := `{"name":"pi","namespace":"jobs","type":"Scala","image":"spark:4","mainClass":"A","mainApplicationFile":"local:///a.jar","driver":{"cores":1},"executor":{"instances":2}}`
	s, err := Read([]byte(bare))
	if err != nil || s.Name != "pi" || s.Namespace != "jobs" || *s.Executor.Instances != 2 {
		t.Fatalf("bare JSON: %+v, %v", s, err)
	}
	_, err = Read([]byte(`{"name":"pi","driver":{"coresss":1}}`))
	if err == nil || !strings.Contains(err.Error(), "coresss") {
		t.Errorf("unknown field not named: %v", err)
	}
	_, err = Read([]byte("apiVersion: sparkoperator.k8s.io/v1beta1\nkind: SparkApplication\nmetadata: {name: x}\nspec: {}\n"))
	if err == nil || !strings.Contains(err.Error(), "v1beta1") {
		t.Errorf("wrong apiVersion accepted: %v", err)
	}
	_, err = Read([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"))
	if err == nil {
		t.Error("a file without a SparkApplication was accepted")
	}
}
