package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.temporal.io/sdk/temporal"

	"github.com/kindling-dev/kindling/k8s/job"
)

func TestFetchDependenciesPinsHTTPAndPassesTheRest(t *testing.T) {
	jar := []byte(strings.Repeat("spark jar bytes ", 1000))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/app.jar":
			w.Header().Set("ETag", `"v1"`)
			_, _ = w.Write(jar)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	sum := sha256.Sum256(jar)

	spec := job.JobSpec{}
	spec.MainApplicationFile = srv.URL + "/app.jar"
	spec.Deps.Jars = []string{"local:///opt/spark/jars/extra.jar", srv.URL + "/app.jar"}
	spec.Deps.Files = []string{"s3a://bucket/conf.json"}
	spec.Deps.Archives = []string{"gs://bucket/env.tar.gz#env"}
	a := &Activities{HTTP: srv.Client()}
	out, err := a.FetchDependencies(context.Background(), FetchDependenciesInput{Spec: spec})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Dependencies) != 4 {
		t.Fatalf("got %d dependencies, want 4 (the repeated jar once): %+v", len(out.Dependencies), out.Dependencies)
	}
	main := out.Dependencies[0]
	if !main.Verified || main.Size != int64(len(jar)) || main.SHA256 != hex.EncodeToString(sum[:]) || main.ETag != `"v1"` {
		t.Errorf("main file = %+v, want verified, %d bytes, sha256 %x, ETag \"v1\"", main, len(jar), sum)
	}
	for _, d := range out.Dependencies[1:] {
		if d.Verified {
			t.Errorf("%s marked verified; only http(s) is checked", d.URI)
		}
	}
	if got := out.Dependencies[3].URI; got != "gs://bucket/env.tar.gz" {
		t.Errorf("archive URI = %q, want the alias stripped", got)
	}
}

func TestFetchDependenciesFailsBeforeAnyPod(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	deadAddr := closed.Addr().String()
	closed.Close()

	cases := []struct {
		name, uri, wantMsg string
		retryable          bool
	}{
		{"missing file", srv.URL + "/nope.jar", "spec.mainApplicationFile: GET " + srv.URL + "/nope.jar: 404 Not Found", false},
		{"unreachable host", "http://" + deadAddr + "/app.jar", "spec.mainApplicationFile: http://" + deadAddr + "/app.jar is unreachable", true},
		{"local path", "/home/me/app.jar", `spec.mainApplicationFile: "/home/me/app.jar" is a path on the submitting machine, which the driver cannot read: bake the file into the image and use local:///home/me/app.jar`, false},
		{"unknown scheme", "ftp://host/app.jar", `spec.mainApplicationFile: scheme "ftp" of "ftp://host/app.jar" is not supported`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec := job.JobSpec{}
			spec.MainApplicationFile = tc.uri
			_, err := (&Activities{HTTP: srv.Client()}).FetchDependencies(context.Background(), FetchDependenciesInput{Spec: spec})
			var ae *temporal.ApplicationError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want an application error", err)
			}
			wantType := ErrDependency
			if tc.retryable {
				wantType = ErrDependencyUnavailable
			}
			if ae.Type() != wantType {
				t.Errorf("type = %q, want %q", ae.Type(), wantType)
			}
			if !strings.HasPrefix(ae.Message(), tc.wantMsg) {
				t.Errorf("message = %q\nwant prefix %q", ae.Message(), tc.wantMsg)
			}
			if ae.NonRetryable() == tc.retryable {
				t.Errorf("non-retryable = %v, want %v", ae.NonRetryable(), !tc.retryable)
			}
		})
	}
}
