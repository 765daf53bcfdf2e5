package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kindling-dev/kindling/internal/codec"
	"github.com/kindling-dev/kindling/internal/tracing"
	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/k8s/render"
)

// temporalOptions are the flags every command that talks to Temporal shares.
type temporalOptions struct {
	address   string
	namespace string
	uiURL     string
	codec     codec.Settings
	strict    bool                    // settings that hold secrets in plain text are errors, not warnings
	dc        converter.DataConverter // the dialled client's: decodes payloads the CLI reads itself
}

func (o *temporalOptions) bind(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&o.address, "address", envOr("TEMPORAL_ADDRESS", "127.0.0.1:7233"), "Temporal frontend host:port (env TEMPORAL_ADDRESS)")
	f.StringVar(&o.namespace, "namespace", envOr("TEMPORAL_NAMESPACE", "default"), "Temporal namespace (env TEMPORAL_NAMESPACE)")
	f.StringVar(&o.uiURL, "ui", envOr("KINDLING_UI_URL", "http://127.0.0.1:8233"), "Temporal UI base URL, for links (env KINDLING_UI_URL)")
	f.StringVar(&o.codec.KeysDir, "codec-keys-dir", os.Getenv(codec.EnvKeysDir),
		"payload encryption: directory of AES-256 keys, as the worker has them (env "+codec.EnvKeysDir+"; or keys in env "+codec.EnvKeys+")")
	f.StringVar(&o.codec.Endpoint, "codec-endpoint", os.Getenv(codec.EnvEndpoint),
		"payload encryption without the keys: the URL of a kindling codec-server, {namespace} replaced (env "+codec.EnvEndpoint+")")
	o.codec.Keys = os.Getenv(codec.EnvKeys)
	f.BoolVar(&o.strict, "strict", os.Getenv("KINDLING_STRICT") == "true",
		"refuse a job whose sparkConf, hadoopConf or env holds what looks like a secret in plain text, instead of warning (env KINDLING_STRICT=true)")
}

// problems are the rules a job is checked against: every rule of the job, and with --strict
// no secret in plain text.
func (o *temporalOptions) problems(s *job.JobSpec) field.ErrorList {
	if o.strict {
		return render.StrictProblems(s)
	}
	return render.Problems(s)
}

func (o *temporalOptions) dial() (client.Client, error) {
	opts := client.Options{
		HostPort:  o.address,
		Namespace: o.namespace,
		Logger:    tlog.NewStructuredLogger(warnLogger()),
	}
	if err := o.codec.Apply(&opts); err != nil {
		return nil, exitError{code: exitInvalid, err: fmt.Errorf("payload encryption: %w", err)}
	}
	o.dc = opts.DataConverter
	if o.dc == nil {
		o.dc = converter.GetDefaultDataConverter()
	}
	interceptors, flush, err := tracing.Setup(context.Background(), "kindling")
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	opts.Interceptors, flushTraces = interceptors, flush
	c, err := client.Dial(opts)
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s (is it running? `make dev-up` starts one): %w", o.address, err)
	}
	return c, nil
}

// flushTraces sends the spans the command made (tracing on) before the process ends.
var flushTraces = func(context.Context) error { return nil }

// withClient makes a command's RunE that dials Temporal, runs fn with the client and closes it.
func (o *temporalOptions) withClient(fn func(cmd *cobra.Command, args []string, c client.Client) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		c, err := o.dial()
		if err != nil {
			return err
		}
		defer c.Close()
		return fn(cmd, args, c)
	}
}

// runURL is the run's page in the Temporal UI. The ID is escaped as the UI escapes it: a
// controller-mode run's ID (sparkapp/NAMESPACE/NAME/UID/gN) holds slashes.
func (o *temporalOptions) runURL(workflowID, runID string) string {
	return fmt.Sprintf("%s/namespaces/%s/workflows/%s/%s/history",
		strings.TrimRight(o.uiURL, "/"), url.PathEscape(o.namespace), url.PathEscape(workflowID), runID)
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// readJobFile reads a SparkApplication manifest, or a bare spec, from a file, and checks it:
// fields it does not know and every rule the spec breaks come back as one error, before
// anything is submitted or created.
func readJobFile(file string, problems func(*job.JobSpec) field.ErrorList) (*job.JobSpec, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	spec, unknown, err := job.ReadLenient(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	checked := spec.DeepCopy()
	job.Default(checked)
	if err := job.Errors(append(unknown, problems(checked)...)); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return spec, nil
}
