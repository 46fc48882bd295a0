package cli

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/lambdawarden/lambdawarden/internal/serve"
)

func (e *env) serveCommand() *cobra.Command {
	var (
		hf     historyFlags
		listen string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "A read-only local dashboard over the history",
		Long: `Serves a dashboard of the history on a loopback address: the trend of open
findings, the latest posture per account and Region, the findings with filters,
each resource's timeline with its policy diffs, and evidence downloads. It only
reads the history, answers only GET and HEAD for a loopback Host, and its pages
load nothing from outside (it works offline). Ctrl-C stops it.`,
		Example: `  lambdawarden serve
  lambdawarden serve --history postgres://lw@db/history --listen 127.0.0.1:9090`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			host, _, err := net.SplitHostPort(listen)
			if err != nil {
				return usagef("--listen %q: want HOST:PORT, e.g. 127.0.0.1:8080", listen)
			}
			if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
				return usagef("--listen %q: the dashboard listens on a loopback address only (127.0.0.1 or ::1); put an authenticating proxy in front to share it", listen)
			}
			s, err := hf.open(e)
			if err != nil {
				return err
			}
			defer s.Close()
			l, err := net.Listen("tcp", listen)
			if err != nil {
				return usagef("--listen %s: %v", listen, err)
			}
			srv := &http.Server{
				Handler:           serve.New(s, serve.Options{Now: e.clock(), Tool: toolInfo(), Log: log.New(e.stderr, "lambdawarden serve: ", 0)}).Handler(),
				ReadHeaderTimeout: 10 * time.Second,
				ReadTimeout:       30 * time.Second,
				WriteTimeout:      5 * time.Minute, // a year's evidence pack
				IdleTimeout:       2 * time.Minute,
			}
			fmt.Fprintf(e.stdout, "lambdawarden: serving the history read-only on http://%s/ (Ctrl-C stops)\n", l.Addr())
			done := make(chan error, 1)
			go func() { done <- srv.Serve(l) }()
			select {
			case err := <-done:
				return err
			case <-e.ctx.Done():
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
				return err
			}
			return nil
		},
	}
	hf.register(cmd)
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8080", "loopback address and port to serve on")
	cmd.Flags().Lookup("output").Hidden = true // pages only
	return cmd
}
