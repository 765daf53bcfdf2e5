package job

import "testing"

func TestParseJavaSize(t *testing.T) {
	for in, want := range map[string]int64{"512m": 512, "1g": 1024, "2G": 2048, "1024": 1024, "1t": 1 << 20, "1048576k": 1024, "1gb": 1024} {
		if got, err := ParseMiB(in); err != nil || got != want {
			t.Errorf("ParseMiB(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"1Gi", "512Mi", "1.5g", "", "-1g", "g"} {
		if _, err := ParseMiB(in); err == nil {
			t.Errorf("ParseMiB(%q) accepted a size Spark rejects", in)
		}
	}
}
