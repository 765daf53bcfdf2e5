// Command kindling-worker runs Kindling's workflows and activities: it polls the
// `kindling` task queue and does the Kubernetes work of every Spark job it is given.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/kindling-dev/kindling/activities"
	"github.com/kindling-dev/kindling/controller"
	"github.com/kindling-dev/kindling/internal/codec"
	"github.com/kindling-dev/kindling/internal/metrics"
	"github.com/kindling-dev/kindling/internal/tracing"
	"github.com/kindling-dev/kindling/k8s/cluster"
	"github.com/kindling-dev/kindling/workflows"
)

type config struct {
	address, namespace, taskQueue string
	kubeconfig, watchNamespace    string
	logFormat, logLevel           string
	stopTimeout, heartbeatEvery   time.Duration
	maxActivities                 int
	sweepEvery, expireEvery       time.Duration
	codec                         codec.Settings
	allowNamespaces               string
	strict                        bool
	httpAddress, metricsLabels    string
	controller, pprof             bool
	pollers, kubeQPS              int
	leaderNamespace, leaderID     string
}

func main() {
	cfg := config{}
	flag.StringVar(&cfg.address, "address", envOr("TEMPORAL_ADDRESS", "127.0.0.1:7233"), "Temporal frontend host:port (env TEMPORAL_ADDRESS)")
	flag.StringVar(&cfg.namespace, "namespace", envOr("TEMPORAL_NAMESPACE", "default"), "Temporal namespace (env TEMPORAL_NAMESPACE)")
	flag.StringVar(&cfg.taskQueue, "task-queue", workflows.TaskQueue, "task queue to poll")
	flag.StringVar(&cfg.kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, then in-cluster)")
	flag.StringVar(&cfg.watchNamespace, "watch-namespace", os.Getenv("KINDLING_WATCH_NAMESPACE"), "only supervise pods (and, with --controller, SparkApplications) in this Kubernetes namespace (env KINDLING_WATCH_NAMESPACE; default: all)")
	flag.StringVar(&cfg.logFormat, "log-format", envOr("KINDLING_LOG_FORMAT", "text"), "log format: text or json")
	flag.StringVar(&cfg.logLevel, "log-level", envOr("KINDLING_LOG_LEVEL", "info"), "log level: debug, info, warn, error")
	flag.DurationVar(&cfg.stopTimeout, "stop-timeout", 30*time.Second, "on SIGTERM, how long running activities get to hand over")
	flag.DurationVar(&cfg.heartbeatEvery, "progress-interval", 5*time.Second, "how often a supervised job's progress (driver phase, executor counts) reaches Temporal")
	flag.IntVar(&cfg.maxActivities, "max-activities", 2000, "most activities (mostly supervisors) one worker runs at once")
	flag.DurationVar(&cfg.sweepEvery, "sweep-every", 10*time.Minute, "how often the sweep removes what ended jobs left (a Temporal Schedule per task queue); 0: no schedule")
	flag.DurationVar(&cfg.expireEvery, "expire-every", 15*time.Second, "how often the worker deletes finished jobs' objects whose time to live has ended (their kindling.dev/delete-after mark)")
	flag.StringVar(&cfg.codec.KeysDir, "codec-keys-dir", os.Getenv(codec.EnvKeysDir),
		"encrypt payloads (job specs, results, failure messages) in Temporal with the AES-256 keys in this directory, a mounted Secret (env "+codec.EnvKeysDir+"; or keys in env "+codec.EnvKeys+")")
	flag.StringVar(&cfg.allowNamespaces, "allow-namespace", os.Getenv("KINDLING_ALLOWED_NAMESPACES"),
		"comma-separated Kubernetes namespaces jobs may run in; others fail validation before anything is created (env KINDLING_ALLOWED_NAMESPACES; default: any)")
	flag.BoolVar(&cfg.strict, "strict", os.Getenv("KINDLING_STRICT") == "true",
		"refuse jobs whose sparkConf, hadoopConf or env hold what looks like a secret in plain text (env KINDLING_STRICT=true)")
	flag.StringVar(&cfg.httpAddress, "http-address", envOr("KINDLING_HTTP_ADDRESS", ":9090"),
		"serve /metrics (Prometheus), /healthz and /readyz here; empty: none (env KINDLING_HTTP_ADDRESS)")
	flag.StringVar(&cfg.metricsLabels, "metrics-labels", envOr("KINDLING_METRICS_LABELS", "app_type"),
		"comma-separated labels of the operator-named spark_application_* metrics, from each job's metadata.labels (or namespace); as the operator's --metrics-labels")
	flag.IntVar(&cfg.kubeQPS, "kube-qps", cluster.DefaultQPS, "requests per second to the Kubernetes API server, with bursts of twice that (client-go's default of 5 would queue a burst of submissions)")
	flag.BoolVar(&cfg.pprof, "pprof", false, "serve Go's profiles under /debug/pprof/ on --http-address")
	flag.IntVar(&cfg.pollers, "pollers", 16, "most task pollers of each kind (workflow, activity); the worker scales between 1 and this as the server asks: more take bursts of submissions sooner")
	flag.BoolVar(&cfg.controller, "controller", os.Getenv("KINDLING_CONTROLLER") == "true",
		"also run controller mode: every SparkApplication applied to the cluster runs as a job, with its status written back as the Spark operator writes it (env KINDLING_CONTROLLER=true; replicas elect one leader)")
	flag.StringVar(&cfg.leaderNamespace, "leader-election-namespace", envOr("POD_NAMESPACE", "default"),
		"namespace of the controller's leader election Lease (env POD_NAMESPACE)")
	flag.StringVar(&cfg.leaderID, "leader-election-id", envOr("KINDLING_LEADER_ELECTION_ID", controller.DefaultLeaderElectionID), "name of the controller's leader election Lease (env KINDLING_LEADER_ELECTION_ID)")
	flag.Parse()
	cfg.codec.Keys = os.Getenv(codec.EnvKeys)

	log, err := newLogger(cfg.logFormat, cfg.logLevel)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kindling-worker:", err)
		os.Exit(2)
	}
	if err := run(cfg, log); err != nil {
		log.Error("worker stopped", "error", err)
		os.Exit(1)
	}
}

func run(cfg config, log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	m, err := metrics.New(metrics.Config{Labels: splitList(cfg.metricsLabels), Logger: log})
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	defer func() { _ = m.Shutdown(context.Background()) }()
	ready := newReadiness()
	if cfg.httpAddress != "" {
		httpCtx, stopHTTP := context.WithCancel(context.Background())
		defer stopHTTP() // after the worker stopped: probes and scrapes work while it hands over
		if err := serveHTTP(httpCtx, cfg.httpAddress, m, ready, cfg.pprof, log); err != nil {
			return err
		}
	}

	kc, err := cluster.Connect(cfg.kubeconfig)
	if err != nil {
		return err
	}
	kc.Config.QPS, kc.Config.Burst = float32(cfg.kubeQPS), cfg.kubeQPS*2
	if kc, err = cluster.ConnectConfig(kc.Config); err != nil {
		return err
	}
	pods, err := cluster.NewPodWatch(kc.Kube, cfg.watchNamespace, 30*time.Second)
	if err != nil {
		return err
	}
	syncCtx, cancelSync := context.WithTimeout(ctx, time.Minute)
	err = pods.Start(ctx, syncCtx)
	cancelSync()
	if err != nil {
		return fmt.Errorf("start pod watch against %s: %w", kc.Config.Host, err)
	}
	log.Info("pod watch synced", "apiserver", kc.Config.Host, "namespace", orAll(cfg.watchNamespace))
	go func() { // kindling_supervised_pods: what the shared watch holds
		tick := time.NewTicker(15 * time.Second)
		defer tick.Stop()
		for {
			m.SetSupervisedPods(pods.Len())
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()

	interceptors, flushTraces, err := tracing.Setup(ctx, "kindling-worker")
	if err != nil {
		return fmt.Errorf("tracing: %w", err)
	}
	defer func() { _ = flushTraces(context.Background()) }()
	if interceptors != nil {
		log.Info("tracing on: spans go over OTLP as OTEL_* says")
	}
	ready.set("starting: connecting to Temporal")
	copts := client.Options{
		HostPort:       cfg.address,
		Namespace:      cfg.namespace,
		Logger:         tlog.NewStructuredLogger(log),
		MetricsHandler: temporalMetrics(m),
		Interceptors:   interceptors,
	}
	// The worker holds the keys: a codec server would put every payload on the network twice.
	cfg.codec.Endpoint = ""
	if err := cfg.codec.Apply(&copts); err != nil {
		return fmt.Errorf("payload encryption: %w", err)
	}
	if copts.DataConverter != nil {
		from := cfg.codec.KeysDir
		if from == "" {
			from = "env " + codec.EnvKeys
		}
		log.Info("payloads are encrypted (AES-256-GCM)", "keys", from)
	}
	tc, err := client.Dial(copts)
	if err != nil {
		return fmt.Errorf("connect to Temporal at %s: %w", cfg.address, err)
	}
	defer tc.Close()
	if err := workflows.CheckSearchAttributes(ctx, tc, cfg.namespace); err != nil {
		return err
	}
	if cfg.sweepEvery > 0 {
		if err := workflows.EnsureSweepSchedule(ctx, tc, cfg.taskQueue, cfg.sweepEvery); err != nil {
			return fmt.Errorf("create the sweep's schedule: %w", err)
		}
	}

	w := worker.New(tc, cfg.taskQueue, worker.Options{
		MaxConcurrentActivityExecutionSize: cfg.maxActivities,
		// Bursts (a schedule firing hundreds of jobs at once) need more than the SDK's two
		// pollers per kind, and an idle worker fewer: the server tells the worker how many
		// it needs, up to --pollers. make bench measures the difference.
		WorkflowTaskPollerBehavior: worker.NewPollerBehaviorAutoscaling(worker.PollerBehaviorAutoscalingOptions{MaximumNumberOfPollers: cfg.pollers}),
		ActivityTaskPollerBehavior: worker.NewPollerBehaviorAutoscaling(worker.PollerBehaviorAutoscalingOptions{MaximumNumberOfPollers: cfg.pollers}),
		WorkerStopTimeout:          cfg.stopTimeout,
		// Supervise heartbeats its progress; clients read the last one for live status.
		MaxHeartbeatThrottleInterval:     cfg.heartbeatEvery,
		DefaultHeartbeatThrottleInterval: cfg.heartbeatEvery,
	})
	workflows.Register(w)
	acts := &activities.Activities{
		Cluster: cluster.Objects{Kube: kc.Kube, Dynamic: kc.Dynamic, Mapper: kc.Mapper},
		Pods:    pods,
		HTTP:    &http.Client{Timeout: 10 * time.Minute},
		// Supervision sees only this namespace: Validate refuses jobs elsewhere.
		WatchNamespace:    cfg.watchNamespace,
		AllowedNamespaces: splitList(cfg.allowNamespaces),
		Strict:            cfg.strict,
		Temporal:          tc,
		Metrics:           m,
	}
	w.RegisterActivity(acts)
	if cfg.expireEvery > 0 {
		go activities.ExpireEvery(ctx, acts, cfg.expireEvery, log)
	}
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	log.Info("worker started", "temporal", cfg.address, "namespace", cfg.namespace, "taskQueue", cfg.taskQueue)
	ctlErr := make(chan error, 1)
	if cfg.controller {
		go func() {
			ctlErr <- controller.Start(ctx, controller.Options{
				Kube: kc.Config, Temporal: tc, TaskQueue: cfg.taskQueue, Namespace: cfg.watchNamespace,
				LeaderElectionNamespace: cfg.leaderNamespace, LeaderElectionID: cfg.leaderID, Logger: log.With("component", "controller"),
			})
		}()
	}
	ready.set("")
	select {
	case <-ctx.Done():
	case err := <-ctlErr:
		if ctx.Err() == nil {
			// The controller never ends on its own: a worker without it must not look healthy.
			if err == nil {
				err = errors.New("the controller stopped")
			}
			log.Error("controller mode failed: stopping the worker", "error", err)
			ready.set("stopping: the controller failed")
			w.Stop()
			return fmt.Errorf("controller: %w", err)
		}
	}
	ready.set("stopping")
	log.Info("stopping: running activities hand over", "timeout", cfg.stopTimeout)
	w.Stop()
	return nil
}

func newLogger(format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use text or json", format)
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// splitList reads "a, b,c" as [a b c]; "" is none.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func orAll(ns string) string {
	if ns == "" {
		return "all"
	}
	return ns
}
