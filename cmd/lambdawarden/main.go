// Command lambdawarden answers who, outside your trust boundary, can reach
// your AWS Lambda functions. All of it lives in internal/cli.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/lambdawarden/lambdawarden/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	// The first Ctrl-C asks the run to stop cleanly; a second one, with
	// the handler gone, ends the process at once.
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
