// Command lambdawarden answers who, outside your trust boundary, can reach
// your AWS Lambda functions. All of it lives in internal/cli.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/lambdawarden/lambdawarden/internal/cli"
)

func main() {
	// SIGTERM is what CI runners and container stops send: it ends a scan
	// like Ctrl-C does, with the partial report written. The first signal
	// asks the run to stop cleanly; a second one, with the handler gone,
	// ends the process at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
