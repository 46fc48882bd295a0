// Package demo is the built-in sample estate behind `lambdawarden scan
// --demo`: a small organization of two accounts and two Regions seeded
// into the emulator, holding one of every exposure lambdawarden reports.
package demo

import (
	_ "embed"
	"fmt"
	"sort"

	"github.com/lambdawarden/lambdawarden/internal/emulator"
)

//go:embed estate.json
var estateJSON []byte

// Seed returns a fresh copy of the demo estate.
func Seed() (*emulator.Seed, error) {
	s, err := emulator.ParseSeed(estateJSON)
	if err != nil {
		return nil, fmt.Errorf("demo estate: %w", err)
	}
	return s, nil
}

// Estate is a running demo emulator.
type Estate struct {
	URL               string
	ManagementAccount string
	OrgID             string
	Accounts          []string
	Regions           []string
	Server            *emulator.Server
}

// Start serves the demo estate on a free loopback port. Close the
// returned Estate's Server when done.
func Start(opts emulator.Options) (*Estate, error) {
	seed, err := Seed()
	if err != nil {
		return nil, err
	}
	srv, err := emulator.New(seed, opts)
	if err != nil {
		return nil, fmt.Errorf("demo estate: %w", err)
	}
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start the demo emulator: %w", err)
	}
	e := &Estate{URL: url, Server: srv}
	if seed.Organization != nil {
		e.OrgID = seed.Organization.ID
		e.ManagementAccount = seed.Organization.ManagementAccount
	}
	seen := map[string]bool{}
	for _, a := range seed.Accounts {
		e.Accounts = append(e.Accounts, a.ID)
		for r := range a.Regions {
			if !seen[r] {
				seen[r] = true
				e.Regions = append(e.Regions, r)
			}
		}
	}
	sort.Strings(e.Regions)
	if e.ManagementAccount == "" && len(e.Accounts) > 0 {
		e.ManagementAccount = e.Accounts[0]
	}
	return e, nil
}
