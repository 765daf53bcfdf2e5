package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/kindling-dev/kindling/internal/codec"
)

func newCodecServerCmd(opts *temporalOptions) *cobra.Command {
	var listen string
	var origins, namespaces []string
	var credentials bool
	cmd := &cobra.Command{
		Use:   "codec-server",
		Short: "Serve payload decryption for the Temporal UI and CLI (the keys stay here)",
		Long: "codec-server answers the Temporal UI's and CLI's encode and decode calls (POST /{namespace}/decode, " +
			"/{namespace}/encode, or /decode with an X-Namespace header) with the keys of --codec-keys-dir or " +
			codec.EnvKeys + ", so people can read encrypted job inputs and results in the UI without holding the keys. " +
			"Browsers may call it only from the --ui-origin origins (CORS). Point the UI at it in its Settings " +
			"(Codec Server, http://127.0.0.1:8081/{namespace}), or start the UI with TEMPORAL_CODEC_ENDPOINT. " +
			"It listens on loopback by default: anywhere else, put it behind TLS and authentication.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := opts.codec.Load()
			if err != nil {
				return exitError{code: exitInvalid, err: err}
			}
			if c == nil {
				return exitError{code: exitInvalid, err: fmt.Errorf("codec-server needs the keys: --codec-keys-dir DIR (env %s) or env %s", codec.EnvKeysDir, codec.EnvKeys)}
			}
			if len(namespaces) == 0 {
				namespaces = []string{opts.namespace}
			}
			if len(origins) == 0 {
				origins = []string{originOf(opts.uiURL)}
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("codec-server: %w", err)
			}
			srv := &http.Server{Handler: codec.Server(c, codec.ServerOptions{Origins: origins, Namespaces: namespaces, AllowCredentials: credentials}),
				ReadHeaderTimeout: 10 * time.Second}
			fmt.Fprintf(cmd.ErrOrStderr(), "codec-server on http://%s (key %s active; namespaces %v; UI origins %v)\n", ln.Addr(), c.Keyring().ActiveID(), namespaces, origins)
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			go func() {
				<-ctx.Done()
				sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = srv.Shutdown(sctx)
			}()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8081", "address to listen on")
	cmd.Flags().StringSliceVar(&origins, "ui-origin", nil, "origin of a Temporal UI allowed to call it from a browser, exactly (repeatable; default the --ui URL)")
	cmd.Flags().StringSliceVar(&namespaces, "allow-namespace", nil, "Temporal namespace it serves (repeatable; default --namespace)")
	cmd.Flags().BoolVar(&credentials, "allow-credentials", false, "answer CORS with Allow-Credentials, for a UI set to include cross-origin credentials")
	return cmd
}

// originOf is a URL's origin as a browser sends it: scheme://host[:port], no path.
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return raw
	}
	return u.Scheme + "://" + u.Host
}
