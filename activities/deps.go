package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/kindling-dev/kindling/k8s/job"
)

// Schemes Spark fetches itself from inside the cluster; Kindling cannot reach them from
// the worker without the job's credentials, so they pass unverified.
var passThroughSchemes = map[string]bool{
	"s3": true, "s3a": true, "s3n": true, "gs": true, "hdfs": true, "abfs": true, "abfss": true,
	"wasb": true, "wasbs": true, "oss": true, "cos": true, "viewfs": true,
}

type depRef struct {
	field, kind, uri string
}

func dependencyRefs(spec *job.JobSpec) []depRef {
	var refs []depRef
	if spec.MainApplicationFile != "" {
		refs = append(refs, depRef{"spec.mainApplicationFile", "mainApplicationFile", spec.MainApplicationFile})
	}
	add := func(field, kind string, uris []string) {
		for i, u := range uris {
			refs = append(refs, depRef{fmt.Sprintf("spec.deps.%s[%d]", field, i), kind, u})
		}
	}
	add("jars", "jar", spec.Deps.Jars)
	add("files", "file", spec.Deps.Files)
	add("pyFiles", "pyFile", spec.Deps.PyFiles)
	add("archives", "archive", spec.Deps.Archives)
	return refs
}

// FetchDependencies checks every dependency before any pod exists. local:// is in the
// image and passes; http(s):// is downloaded once and pinned by size, sha256 and ETag;
// object-store and HDFS URIs pass to Spark unverified; a path on this machine is an error
// that says what to use instead.
func (a *Activities) FetchDependencies(ctx context.Context, in FetchDependenciesInput) (FetchDependenciesOutput, error) {
	defer keepAlive(ctx, 10*time.Second)()
	var out FetchDependenciesOutput
	seen := map[string]bool{}
	for _, ref := range dependencyRefs(&in.Spec) {
		// Spark's archive syntax: uri#alias; the alias is not part of the address.
		uri := ref.uri
		if i := strings.IndexByte(uri, '#'); i >= 0 && ref.kind == "archive" {
			uri = uri[:i]
		}
		if seen[uri] {
			continue
		}
		seen[uri] = true
		dep, err := a.checkDependency(ctx, ref.field, ref.kind, uri)
		if err != nil {
			return FetchDependenciesOutput{}, err
		}
		out.Dependencies = append(out.Dependencies, dep)
	}
	return out, nil
}

func (a *Activities) checkDependency(ctx context.Context, field, kind, uri string) (Dependency, error) {
	dep := Dependency{URI: uri, Kind: kind}
	u, err := url.Parse(uri)
	if err != nil {
		return dep, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s: %q is not a URI: %v", field, uri, err), ErrDependency, nil)
	}
	switch scheme := strings.ToLower(u.Scheme); {
	case scheme == "local":
		dep.Note = "in the image"
		return dep, nil
	case scheme == "http" || scheme == "https":
		return a.fetchHTTP(ctx, field, dep)
	case passThroughSchemes[scheme]:
		dep.Note = "fetched by Spark; not verified"
		return dep, nil
	case scheme == "" || scheme == "file":
		return dep, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"%s: %q is a path on the submitting machine, which the driver cannot read: "+
				"bake the file into the image and use local://%s, or serve it from http(s)://, s3a://, gs:// or hdfs://",
			field, uri, u.Path), ErrDependency, nil)
	default:
		return dep, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"%s: scheme %q of %q is not supported: use local://, http(s)://, s3a://, gs:// or hdfs://",
			field, u.Scheme, uri), ErrDependency, nil)
	}
}

// fetchHTTP downloads the dependency once to pin its size and digest. A missing file
// (4xx) fails for good; a server or network error is retried by the activity's policy.
func (a *Activities) fetchHTTP(ctx context.Context, field string, dep Dependency) (Dependency, error) {
	client := a.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, dep.URI, nil)
	if err != nil {
		return dep, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s: %q: %v", field, dep.URI, err), ErrDependency, nil)
	}
	resp, err := client.Do(req)
	if err != nil {
		return dep, temporal.NewApplicationError(
			fmt.Sprintf("%s: %s is unreachable: %v", field, dep.URI, err), ErrDependencyUnavailable)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		msg := fmt.Sprintf("%s: GET %s: %s", field, dep.URI, resp.Status)
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			return dep, temporal.NewApplicationError(msg, ErrDependencyUnavailable)
		}
		return dep, temporal.NewNonRetryableApplicationError(msg, ErrDependency, nil)
	}
	h := sha256.New()
	n, err := copyWithHeartbeat(ctx, h, resp.Body, dep.URI)
	if err != nil {
		return dep, temporal.NewApplicationError(
			fmt.Sprintf("%s: read %s: %v", field, dep.URI, err), ErrDependencyUnavailable)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return dep, temporal.NewApplicationError(fmt.Sprintf(
			"%s: %s: got %d bytes, server announced %d", field, dep.URI, n, resp.ContentLength), ErrDependencyUnavailable)
	}
	dep.Verified = true
	dep.Size = n
	dep.SHA256 = hex.EncodeToString(h.Sum(nil))
	dep.ETag = resp.Header.Get("ETag")
	return dep, nil
}

// copyWithHeartbeat copies while telling Temporal the download is alive, so a large jar
// is not mistaken for a stuck worker.
func copyWithHeartbeat(ctx context.Context, dst io.Writer, src io.Reader, what string) (int64, error) {
	buf := make([]byte, 256<<10)
	var total int64
	last := time.Now()
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return total, werr
			}
			total += int64(n)
			if time.Since(last) > 5*time.Second && activity.IsActivity(ctx) {
				activity.RecordHeartbeat(ctx, fmt.Sprintf("%s: %d bytes", what, total))
				last = time.Now()
			}
		}
		if errors.Is(err, io.EOF) {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}
