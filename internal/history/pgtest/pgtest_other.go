//go:build !unix

// Package pgtest runs a throwaway PostgreSQL cluster for tests; on this
// platform it is not supported, so tests needing it skip (or fail when
// CI=true).
package pgtest

import (
	"os"
	"testing"
)

// DSN skips the test: the throwaway cluster needs a Unix system.
func DSN(t testing.TB) string {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal("PostgreSQL tests need a Unix system under CI=true")
	}
	t.Skip("skipping: the throwaway PostgreSQL cluster needs a Unix system")
	return ""
}

// Main runs the tests.
func Main(m *testing.M) { os.Exit(m.Run()) }

// Run runs the tests and returns the exit code.
func Run(m *testing.M) int { return m.Run() }
