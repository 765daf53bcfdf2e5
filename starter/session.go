package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/kindling-dev/kindling/activities"
	"github.com/kindling-dev/kindling/k8s/job"
	"github.com/kindling-dev/kindling/k8s/render"
	"github.com/kindling-dev/kindling/k8s/session"
	"github.com/kindling-dev/kindling/workflows"
)

func newSessionCmd(opts *temporalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "session",
		Short: "Spark from a notebook: client-mode sessions for a pod that is the driver",
		Long: "A session gives a notebook pod (the driver, in client mode) what Spark's submission client would: a headless Service " +
			"that selects only that pod, and the settings its SparkSession must use. It follows the executors, and on end removes " +
			"them, the Service and the settings. docs/sessions.md has a Jupyter example.",
	}
	cmd.AddCommand(newSessionStartCmd(opts), newSessionStatusCmd(opts), newSessionEndCmd(opts))
	return cmd
}

func newSessionStartCmd(opts *temporalOptions) *cobra.Command {
	var (
		spec      session.Spec
		conf      []string
		taskQueue string
		output    string
		connect   connectOptions
	)
	cmd := &cobra.Command{
		Use:   "start --pod NAME --image IMAGE [-n NAMESPACE]",
		Short: "Start a session for a notebook pod and print the Spark settings it must use",
		Args:  cobra.NoArgs,
		RunE: opts.withClient(func(cmd *cobra.Command, _ []string, c client.Client) error {
			if ns, name, ok := strings.Cut(spec.Pod, "/"); ok {
				spec.PodNamespace, spec.Pod = ns, name
			}
			for _, kv := range conf {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					return exitError{code: 2, err: fmt.Errorf("--conf %q: write key=value", kv)}
				}
				if spec.Conf == nil {
					spec.Conf = map[string]string{}
				}
				spec.Conf[k] = v
			}
			ctx := cmd.Context()
			if connect.on {
				return startConnect(cmd, opts, c, spec, connect, taskQueue, output)
			}
			if err := session.Check(&spec); err != nil {
				return exitError{code: 2, err: err}
			}
			id := fmt.Sprintf("session-%s-%s-%s", spec.Namespace, spec.Pod, uuid.NewString()[:8])
			run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
				ID: id, TaskQueue: taskQueue,
				StaticSummary: fmt.Sprintf("Spark session for notebook %s/%s", spec.Namespace, spec.Pod),
			}, workflows.SessionWorkflowName, spec)
			if err != nil {
				return fmt.Errorf("start session: %w", err)
			}
			st, err := waitSessionReady(ctx, c, opts.dc, run)
			if err != nil {
				return err
			}
			if output == "json" {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(struct {
					ID    string `json:"id"`
					RunID string `json:"runId"`
					workflows.SessionStatus
				}{id, run.GetRunID(), st})
			}
			printSession(cmd.OutOrStdout(), id, st)
			fmt.Fprintf(cmd.OutOrStdout(), "  %s\n\nEnd it with: kindling session end %s\n", opts.runURL(id, run.GetRunID()), id)
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&spec.Pod, "pod", "", "the notebook pod, the driver (NAME, or NAMESPACE/NAME)")
	f.StringVarP(&spec.Namespace, "kube-namespace", "n", "default", "the Kubernetes namespace of the session: the pod's, where the executors run")
	f.StringVar(&spec.Image, "image", "", "the executors' image: the notebook's Spark version (spark.kubernetes.container.image)")
	f.DurationVar(&spec.MaxDuration, "max-duration", 0, fmt.Sprintf("end the session after this long (default %s)", session.DefaultMaxDuration))
	f.DurationVar(&spec.IdleTimeout, "idle-timeout", 0, fmt.Sprintf("end the session after this long with no executor (default %s; negative: never)", session.DefaultIdleTimeout))
	f.StringArrayVar(&conf, "conf", nil, "another Spark setting to hand out, key=value (repeatable)")
	f.StringVar(&taskQueue, "task-queue", workflows.TaskQueue, "the workers' task queue")
	f.StringVarP(&output, "output", "o", "text", "text or json")
	f.BoolVar(&connect.on, "connect", false, "run a Spark Connect server instead (a cluster-mode job): notebooks connect to the sc:// address it prints, with no client-mode networking")
	f.StringVar(&connect.name, "name", "spark-connect", "--connect: the job's name")
	f.StringVar(&connect.sparkVersion, "spark-version", "", "--connect: the image's Spark version (default: read from the image's tag)")
	f.StringVar(&connect.serviceAccount, "service-account", "spark", "--connect: the driver's service account (it creates the executors)")
	return cmd
}

type connectOptions struct {
	on                                 bool
	name, sparkVersion, serviceAccount string
}

var versionTag = regexp.MustCompile(`:v?(\d+\.\d+\.\d+)`)

// connectJob is a Spark Connect server as a cluster-mode job: Spark 4's SparkConnectServer
// from the image's spark-connect jar, its Service exposing the Connect port.
func connectJob(spec session.Spec, o connectOptions) (job.JobSpec, error) {
	v := o.sparkVersion
	if m := versionTag.FindStringSubmatch(spec.Image); v == "" && m != nil {
		v = m[1]
	}
	if v == "" {
		return job.JobSpec{}, fmt.Errorf("--spark-version: the image %q has no version in its tag: say which Spark it holds", spec.Image)
	}
	if !strings.HasPrefix(v, "4.") {
		return job.JobSpec{}, fmt.Errorf("--spark-version %s: Spark Connect's server ships in the Spark 4 image; for 3.4/3.5 add the spark-connect package and submit the job yourself", v)
	}
	conf := map[string]string{}
	for k, val := range spec.Conf {
		conf[k] = val
	}
	return job.JobSpec{Name: o.name, Namespace: spec.Namespace, SparkApplicationSpec: job.SparkApplicationSpec{
		Type: job.TypeScala, Mode: job.ModeCluster, Image: spec.Image, SparkVersion: v,
		MainClass:           render.ConnectServerClass,
		MainApplicationFile: "local:///opt/spark/jars/spark-connect_2.13-" + v + ".jar",
		SparkConf:           conf,
		Driver:              job.DriverSpec{SparkPodSpec: job.SparkPodSpec{ServiceAccount: o.serviceAccount}},
	}}, nil
}

// startConnect starts the Connect server's job and prints its address once the driver runs.
func startConnect(cmd *cobra.Command, opts *temporalOptions, c client.Client, spec session.Spec, o connectOptions, taskQueue, output string) error {
	ctx := cmd.Context()
	js, err := connectJob(spec, o)
	if err != nil {
		return exitError{code: 2, err: err}
	}
	checked := js.DeepCopy()
	job.Default(checked)
	if err := render.Validate(checked); err != nil {
		return exitError{code: 2, err: err}
	}
	id := fmt.Sprintf("connect-%s-%s-%s", spec.Namespace, o.name, uuid.NewString()[:8])
	port := render.DefaultConnectPort
	if p, err := strconv.Atoi(js.SparkConf["spark.connect.grpc.binding.port"]); err == nil {
		port = p
	}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: taskQueue,
		StaticSummary: fmt.Sprintf("Spark Connect server %s in %s", o.name, spec.Namespace),
		// Marks the job as a session's Connect server, for `session status` and `end`.
		Memo: map[string]any{connectMemo: connectInfo{Namespace: spec.Namespace, Port: port}},
	}, workflows.WorkflowName, js)
	if err != nil {
		return fmt.Errorf("start the Connect server: %w", err)
	}
	addr, err := connectAddress(ctx, c, opts.dc, run, connectInfo{Namespace: spec.Namespace, Port: port}, true)
	if err != nil {
		return err
	}
	if output == "json" {
		return json.NewEncoder(cmd.OutOrStdout()).Encode(map[string]string{"id": id, "runId": run.GetRunID(), "address": addr})
	}
	fmt.Fprintf(cmd.OutOrStdout(), "Spark Connect server %s running\n  address  %s\n  in Python: SparkSession.builder.remote(%q).getOrCreate()\n  %s\n\nEnd it with: kindling session end %s\n",
		id, addr, addr, opts.runURL(id, run.GetRunID()), id)
	return nil
}

// connectMemo is the memo key that marks a Connect server's job, with where it listens.
const connectMemo = "kindling-connect"

type connectInfo struct {
	Namespace string `json:"namespace"`
	Port      int    `json:"port"`
}

// connectOf reads a workflow's Connect memo; false when it is not a Connect server's job.
func connectOf(info interface {
	GetMemo() *commonpb.Memo
}) (connectInfo, bool) {
	var ci connectInfo
	p := info.GetMemo().GetFields()[connectMemo]
	if p == nil {
		return ci, false
	}
	return ci, converter.GetDefaultDataConverter().FromPayload(p, &ci) == nil
}

func (ci connectInfo) address(st workflows.Status) string {
	return fmt.Sprintf("sc://%s.%s.svc:%d", render.ServiceName(st.DriverPod, st.AppID), ci.Namespace, ci.Port)
}

// connectAddress is the sc:// address of a Connect server's job, once (wait) its driver runs.
// The address holds the attempt's service name: after a restart, `session status` has the new one.
func connectAddress(ctx context.Context, c client.Client, dc converter.DataConverter, run client.WorkflowRun, ci connectInfo, wait bool) (string, error) {
	deadline := time.Now().Add(3 * time.Minute)
	for {
		st, err := queryStatus(ctx, c, dc, run.GetID(), run.GetRunID())
		if err == nil && st.State != workflows.StateRunning {
			return "", exitError{code: 1, err: fmt.Errorf("the Connect server ended %s: %s", st.State, st.LastReason)}
		}
		if err == nil && st.DriverPod != "" && (!wait || st.DriverPhase == "Running") {
			return ci.address(st), nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("the Connect server's driver is not running after 3m: kindling status %s", run.GetID())
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// waitSessionReady follows a starting session until it is READY (the settings exist) or ended.
func waitSessionReady(ctx context.Context, c client.Client, dc converter.DataConverter, run client.WorkflowRun) (workflows.SessionStatus, error) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		st, err := querySession(ctx, c, dc, run.GetID(), run.GetRunID())
		if err == nil && st.State != workflows.SessionStarting {
			if st.State == workflows.SessionEnded {
				return st, exitError{code: 1, err: fmt.Errorf("session %s did not start: %s", run.GetID(), sessionFailure(ctx, run, st.Reason))}
			}
			return st, nil
		}
		if time.Now().After(deadline) {
			return st, fmt.Errorf("session %s not ready after 2m (is a worker polling its task queue?)", run.GetID())
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

func sessionFailure(ctx context.Context, run client.WorkflowRun, fallback string) string {
	gctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err := run.Get(gctx, nil)
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return ae.Message()
	}
	return fallback
}

func querySession(ctx context.Context, c client.Client, dc converter.DataConverter, id, runID string) (workflows.SessionStatus, error) {
	var st workflows.SessionStatus
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	v, err := c.QueryWorkflow(qctx, id, runID, workflows.QuerySession)
	if err != nil {
		return st, err
	}
	return st, v.Get(&st)
}

func printSession(w io.Writer, id string, st workflows.SessionStatus) {
	fmt.Fprintf(w, "session %s: %s  notebook %s/%s\n", id, st.State, st.Namespace, st.Pod)
	if st.Reason != "" {
		fmt.Fprintf(w, "  %s\n", st.Reason)
	}
	if st.Service != "" {
		fmt.Fprintf(w, "  service    %s.%s.svc (headless, selects only the notebook; ports %d, %d, %d)\n", st.Service, st.Namespace,
			session.DriverPort, session.BlockManagerPort, session.UIPort)
		fmt.Fprintf(w, "  settings   ConfigMap %s/%s, key spark-defaults.conf (mount it as $SPARK_CONF_DIR), or:\n\n", st.Namespace, st.ConfigMap)
		for _, line := range strings.Split(strings.TrimSpace(session.Properties(st.Settings)), "\n") {
			fmt.Fprintf(w, "    %s\n", line)
		}
		fmt.Fprintln(w)
	}
}

// describeSession describes workflow id and says whether it is a Connect server's job; a
// workflow that is neither a session nor one is refused (exit 2), pointing at `kindling
// instead ID`, and an unknown one exits 3.
func describeSession(ctx context.Context, c client.Client, id, instead string) (*workflowservice.DescribeWorkflowExecutionResponse, connectInfo, bool, error) {
	desc, err := c.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		return nil, connectInfo{}, false, exitError{code: 3, err: fmt.Errorf("session %s: %w", id, err)}
	}
	info := desc.GetWorkflowExecutionInfo()
	ci, isConnect := connectOf(info)
	if !isConnect && info.GetType().GetName() != workflows.SessionWorkflowName {
		return nil, ci, false, exitError{code: 2, err: fmt.Errorf("%s is not a session (it is a %s): kindling %s %s", id, info.GetType().GetName(), instead, id)}
	}
	return desc, ci, isConnect, nil
}

func newSessionStatusCmd(opts *temporalOptions) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "status ID",
		Short: "Show a session: its settings and its executors",
		Args:  cobra.ExactArgs(1),
		RunE: opts.withClient(func(cmd *cobra.Command, args []string, c client.Client) error {
			ctx := cmd.Context()
			desc, ci, isConnect, err := describeSession(ctx, c, args[0], "status")
			if err != nil {
				return err
			}
			info := desc.GetWorkflowExecutionInfo()
			out := cmd.OutOrStdout()
			if isConnect && info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
				st, err := queryStatus(ctx, c, opts.dc, args[0], info.GetExecution().GetRunId())
				if err != nil {
					return err
				}
				addr := ""
				if st.DriverPod != "" {
					addr = ci.address(st)
				}
				if output == "json" {
					return json.NewEncoder(out).Encode(struct {
						workflows.Status
						Address string `json:"address,omitempty"`
					}{st, addr})
				}
				fmt.Fprintf(out, "Spark Connect server %s: %s  %s\n  address  %s\n", args[0], st.State, progressLine(st), addr)
				return nil
			}
			if isConnect && info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
				var res workflows.JobResult
				err := c.GetWorkflow(ctx, args[0], "").Get(ctx, &res)
				if r, ok := workflows.ResultFromError(err); ok {
					res = r
				}
				fmt.Fprintf(out, "Spark Connect server %s: ENDED (%s)  %s\n", args[0], res.State, res.Reason)
				return nil
			}
			if info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
				var res workflows.SessionResult
				err := c.GetWorkflow(ctx, args[0], "").Get(ctx, &res)
				if output == "json" && err == nil {
					return json.NewEncoder(out).Encode(res)
				}
				if err != nil {
					return exitError{code: 1, err: fmt.Errorf("session %s failed: %w", args[0], err)}
				}
				fmt.Fprintf(out, "session %s: %s  %s\n  executors at the end: %d running, %d pending, %d failed\n", args[0], res.State, res.Reason,
					res.Executors.Running, res.Executors.Pending, res.Executors.Failed)
				return nil
			}
			st, err := querySession(ctx, c, opts.dc, args[0], "")
			if err != nil {
				return fmt.Errorf("query session %s: %w", args[0], err)
			}
			var prog activities.SessionProgress
			for _, pa := range desc.GetPendingActivities() {
				if d := pa.GetHeartbeatDetails().GetPayloads(); len(d) > 0 && pa.GetActivityType().GetName() == "SuperviseSession" {
					_ = opts.dc.FromPayload(d[0], &prog)
				}
			}
			if output == "json" {
				return json.NewEncoder(out).Encode(struct {
					workflows.SessionStatus
					Executors activities.SessionProgress `json:"executors"`
				}{st, prog})
			}
			printSession(out, args[0], st)
			fmt.Fprintf(out, "  executors  %d running, %d pending, %d failed (%d OOMKilled)\n", prog.Running, prog.Pending, prog.Failed, prog.OOMKilled)
			return nil
		}),
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text or json")
	return cmd
}

func newSessionEndCmd(opts *temporalOptions) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "end ID",
		Short: "End a session: its executors, Service and settings are removed",
		Args:  cobra.ExactArgs(1),
		RunE: opts.withClient(func(cmd *cobra.Command, args []string, c client.Client) error {
			ctx := cmd.Context()
			_, _, isConnect, err := describeSession(ctx, c, args[0], "cancel")
			if err != nil {
				return err
			}
			if isConnect {
				// A Connect server: its job is cancelled, which deletes its driver and executors.
				if err := c.CancelWorkflow(ctx, args[0], ""); err != nil {
					return fmt.Errorf("end session %s: %w", args[0], err)
				}
				err := c.GetWorkflow(ctx, args[0], "").Get(ctx, nil)
				if res, ok := workflows.ResultFromError(err); ok && res.State == workflows.StateCancelled {
					fmt.Fprintf(cmd.OutOrStdout(), "session %s: ENDED  the Connect server stopped; its driver and executors are deleted\n", args[0])
					return nil
				}
				return fmt.Errorf("session %s: %v", args[0], err)
			}
			if err := c.SignalWorkflow(ctx, args[0], "", workflows.SignalEndSession, reason); err != nil {
				return exitError{code: 3, err: fmt.Errorf("end session %s: %w", args[0], err)}
			}
			var res workflows.SessionResult
			if err := c.GetWorkflow(ctx, args[0], "").Get(ctx, &res); err != nil {
				return fmt.Errorf("session %s: %w", args[0], err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "session %s: %s  %s\n", args[0], res.State, res.Reason)
			return nil
		}),
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the session's history")
	return cmd
}
