package emulator

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseProperties(t *testing.T) {
	tests := []struct {
		name string
		text string
		want Properties
	}{
		{"separators", "a=1\nb:2\nc 3\nd\t=\t4\ne = : 5\n", Properties{"a": "1", "b": "2", "c": "3", "d": "4", "e": ": 5"}},
		{"comments and blanks", "# c\n  ! also\n\n   \nk=v\n", Properties{"k": "v"}},
		{"value keeps inner and trailing spaces", "k=  a b  \n", Properties{"k": "a b  "}},
		{"later key wins", "k=1\nk=2\n", Properties{"k": "2"}},
		{"key without value", "k\n", Properties{"k": ""}},
		{"escaped separator in key", `a\=b=c` + "\n" + `x\ y z`, Properties{"a=b": "c", "x y": "z"}},
		{"escapes", `k=tab\there\nnl\u0041\\`, Properties{"k": "tab\there\nnlA\\"}},
		{"continuation", "k=a,\\\n    b,\\\n  c\nnext=1\n", Properties{"k": "a,b,c", "next": "1"}},
		{"even backslashes do not continue", "k=a\\\\\nnext=1\n", Properties{"k": `a\`, "next": "1"}},
		{"CRLF", "a=1\r\nb=2\r\n", Properties{"a": "1", "b": "2"}},
		{"spark conf as rendered", "spark.executor.instances=3\nspark.kubernetes.executor.podTemplateFile=/opt/spark/pod-template/pod-spec-template.yml\nspark.app.name=Spark Pi\n",
			Properties{"spark.executor.instances": "3", "spark.kubernetes.executor.podTemplateFile": "/opt/spark/pod-template/pod-spec-template.yml", "spark.app.name": "Spark Pi"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseProperties(tt.text)
			if err != nil {
				t.Fatalf("ParseProperties: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseProperties(%q) (-want +got):\n%s", tt.text, diff)
			}
		})
	}
}

func TestParsePropertiesBadUnicodeEscape(t *testing.T) {
	if _, err := ParseProperties(`k=\u12`); err == nil {
		t.Fatal(`ParseProperties("k=\u12") succeeded; want an error for the short \u escape`)
	}
}

func TestPropertiesWithPrefix(t *testing.T) {
	p := Properties{"spark.kubernetes.executor.label.team": "data", "spark.kubernetes.executor.label.": "x", "spark.other": "y"}
	want := map[string]string{"team": "data"}
	if diff := cmp.Diff(want, p.WithPrefix("spark.kubernetes.executor.label.")); diff != "" {
		t.Errorf("WithPrefix (-want +got):\n%s", diff)
	}
}
