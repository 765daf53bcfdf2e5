package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/kindling-dev/kindling/workflows"
)

func newStatusCmd(opts *temporalOptions) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "status ID",
		Short: "Show a job's live state, or its result once it has ended",
		Args:  cobra.ExactArgs(1),
		RunE: opts.withClient(func(cmd *cobra.Command, args []string, c client.Client) error {
			ctx := cmd.Context()
			desc, err := c.DescribeWorkflowExecution(ctx, args[0], "")
			if err != nil {
				return fmt.Errorf("job %s: %w", args[0], err)
			}
			info := desc.GetWorkflowExecutionInfo()
			runID := info.GetExecution().GetRunId()
			out := cmd.OutOrStdout()
			if info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
				st, err := queryStatus(ctx, c, opts.dc, args[0], runID)
				if err != nil {
					return fmt.Errorf("query job %s: %w", args[0], err)
				}
				if output == "json" {
					return json.NewEncoder(out).Encode(st)
				}
				fmt.Fprintf(out, "%s  %s\n  %s\n", st.State, progressLine(st), opts.runURL(args[0], runID))
				return nil
			}
			var res workflows.JobResult
			err = c.GetWorkflow(ctx, args[0], runID).Get(ctx, &res)
			if err != nil {
				r, ok := workflows.ResultFromError(err)
				if !ok {
					return fmt.Errorf("job %s: %s: %w", args[0], info.GetStatus(), unwrapApp(err))
				}
				res = r
			}
			if output == "json" {
				return json.NewEncoder(out).Encode(res)
			}
			fmt.Fprint(out, formatResult(res))
			fmt.Fprintf(out, "  history: %s\n", opts.runURL(args[0], runID))
			return nil
		}),
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text or json")
	return cmd
}

func newCancelCmd(opts *temporalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "cancel ID",
		Short: "Stop a job: its driver and executors are deleted and it ends CANCELLED",
		Args:  cobra.ExactArgs(1),
		RunE: opts.withClient(func(cmd *cobra.Command, args []string, c client.Client) error {
			if err := c.CancelWorkflow(cmd.Context(), args[0], ""); err != nil {
				return fmt.Errorf("cancel job %s: %w", args[0], err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "cancel requested for %s; its driver and executors are being deleted\n", args[0])
			return nil
		}),
	}
}

func newListCmd(opts *temporalOptions) *cobra.Command {
	var query string
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List Spark jobs, newest first",
		Args:  cobra.NoArgs,
		RunE: opts.withClient(func(cmd *cobra.Command, _ []string, c client.Client) error {
			q := fmt.Sprintf("WorkflowType = '%s'", workflows.WorkflowName)
			if query != "" {
				q += " AND (" + query + ")"
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tJOB\tSTATE\tAPP ID\tSTARTED")
			var token []byte
			n := 0
			for n < limit {
				resp, err := c.ListWorkflow(cmd.Context(), &workflowservice.ListWorkflowExecutionsRequest{
					Query: q, NextPageToken: token, PageSize: int32(min(limit-n, 100)),
				})
				if err != nil {
					return fmt.Errorf("list jobs: %w", err)
				}
				for _, e := range resp.GetExecutions() {
					sa := e.GetSearchAttributes().GetIndexedFields()
					state := str(sa["KindlingState"])
					if state == "" || e.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING && state == workflows.StateRunning {
						state = e.GetStatus().String()
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.GetExecution().GetWorkflowId(), str(sa["KindlingJobName"]),
						state, str(sa["KindlingAppId"]), e.GetStartTime().AsTime().Local().Format(time.DateTime))
					n++
				}
				token = resp.GetNextPageToken()
				if len(token) == 0 {
					break
				}
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().StringVarP(&query, "query", "q", "", "extra visibility filter, e.g. \"KindlingState = 'FAILED'\"")
	cmd.Flags().IntVar(&limit, "limit", 50, "most jobs to list")
	return cmd
}

// str decodes a keyword search attribute; an absent one is "".
func str(p *commonpb.Payload) string {
	var s string
	if p != nil {
		_ = converter.GetDefaultDataConverter().FromPayload(p, &s)
	}
	return s
}
