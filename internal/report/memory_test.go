package report

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambdawarden/lambdawarden/internal/finding"
	"github.com/lambdawarden/lambdawarden/internal/rules"
)

// syntheticResource is resource i of a large estate, shaped like a real
// scan's: every function has a grant and a finding (not in a VPC) and
// keeps its policy text (as when html is asked for); one in fifty is
// public with a critical finding, one in a thousand could not be read.
func syntheticResource(i int) Resource {
	name := fmt.Sprintf("orders-service-%06d", i)
	account := fmt.Sprintf("%012d", 123456789012+i%3)
	region := []string{"us-east-1", "eu-west-1"}[i%2]
	arn := "arn:aws:lambda:" + region + ":" + account + ":function:" + name
	if i%1000 == 999 {
		return Resource{ARN: arn, Kind: "function", Account: account, Region: region, Status: "unknown", Exposure: "unknown",
			UnknownReason: "GetPolicy: AccessDeniedException: User: arn:aws:sts::" + account + ":assumed-role/SecurityAudit/lambdawarden is not authorized to perform: lambda:GetPolicy on resource: " + arn,
			Findings:      []finding.Finding{}}
	}
	vpc, _ := rules.ByID("lambda-not-in-vpc")
	r := Resource{
		ARN: arn, Kind: "function", Account: account, Region: region, Status: "evaluated", Exposure: "private",
		Grants: []Grant{{
			Statement:   finding.StatementRef{Sid: "AllowEventBridgeInvoke", Index: 0},
			Exposure:    "private",
			Actions:     []string{"lambda:InvokeFunction"},
			Groups:      []string{"invoke"},
			Explanation: `Statement "AllowEventBridgeInvoke" allows events.amazonaws.com to call lambda:InvokeFunction, limited by AWS:SourceAccount ` + account + ".",
		}},
		Findings: []finding.Finding{{
			RuleID: vpc.ID, Title: vpc.Title, Severity: vpc.Severity,
			Explanation: "The function " + name + " is not attached to a VPC, so its outbound traffic leaves through Lambda's shared network rather than your private subnets.",
			Remediation: finding.Remediation{
				Text:     "Attach the function to private subnets with a restrictive security group.",
				Commands: []string{"aws lambda update-function-configuration --function-name " + name + " --vpc-config SubnetIds=subnet-PRIVATE1,subnet-PRIVATE2,SecurityGroupIds=sg-FUNCTION --region " + region},
			},
			Compliance: rules.Compliance(vpc.ID),
		}},
		Policy:     `{"Version":"2012-10-17","Id":"default","Statement":[{"Sid":"AllowEventBridgeInvoke","Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"` + arn + `","Condition":{"StringEquals":{"AWS:SourceAccount":"` + account + `"}}}]}`,
		RevisionID: fmt.Sprintf("%08x-1111-2222-3333-%012x", i, i),
	}
	if i%50 == 0 {
		pub, _ := rules.ByID("lambda-public-access")
		r.Exposure = "public"
		r.Grants[0].Exposure = "public"
		r.Findings = append([]finding.Finding{{
			RuleID: pub.ID, Title: pub.Title, Severity: pub.Severity, Exposure: "public",
			Statement:   &finding.StatementRef{Sid: "AllowEventBridgeInvoke", Index: 0},
			Actions:     []string{"lambda:InvokeFunction"},
			Explanation: `Statement "AllowEventBridgeInvoke" allows anyone (Principal "*") to call lambda:InvokeFunction; no condition limits the caller.`,
			Remediation: finding.Remediation{Text: pub.Remediation, Commands: []string{"aws lambda remove-permission --function-name " + name + " --statement-id AllowEventBridgeInvoke --region " + region}},
			Compliance:  rules.Compliance(pub.ID),
		}}, r.Findings...)
	}
	return r
}

// heapPeak samples the heap in use until stopped and returns the
// highest value seen.
func heapPeak() (stop func() uint64) {
	var (
		mu   sync.Mutex
		peak uint64
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	sample := func() {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		mu.Lock()
		peak = max(peak, m.HeapInuse)
		mu.Unlock()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				sample()
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		sample()
		return peak
	}
}

// countingWriter counts what a writer produced.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// TestWritersMemoryBound spools 100,000 judged resources and writes every
// format, json to a file as the CLI does and the rest to nowhere, and
// checks that the heap never grows past a budget that leaves the scan
// under 200 MB of RSS (before spooling, the json report of such a scan
// alone was 215 MB and the process peaked at 1.28 GB).
//
// The time goes into the formats' sheer size at 100,000 resources
// (asff 2.2 GB: a PASSED finding per rule and resource; ocsf with
// --ocsf-compliance 1.3 GB: each requirement lists every failing
// resource), about 50 s in all, so -short uses 10,000 resources and the
// race detector, which slows JSON work about tenfold, 2,000; the
// compliance findings are written only at those sizes.
func TestWritersMemoryBound(t *testing.T) {
	n := 100_000
	switch {
	case raceEnabled:
		n = 2_000
	case testing.Short():
		n = 10_000
	}
	const budget = 100 << 20
	dir := t.TempDir()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	stop := heapPeak()
	start := time.Now()

	sp, err := NewSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		r := syntheticResource(i)
		if err := sp.Add(&r); err != nil {
			t.Fatal(err)
		}
	}
	d := &Document{
		SchemaVersion: SchemaVersion,
		Tool:          Tool{Name: "lambdawarden", Version: "test"},
		Scan: &ScanInfo{StartedAt: "2026-05-01T12:00:00Z", FinishedAt: "2026-05-01T12:03:00Z",
			Accounts: []string{"123456789012", "123456789013", "123456789014"}, Regions: []string{"eu-west-1", "us-east-1"}, Complete: true},
		FailOn: finding.High,
	}
	if err := d.UseSpool(sp); err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.Summarize()
	spooled := time.Since(start)

	sizes := map[string]int64{}
	took := map[string]time.Duration{}
	var text strings.Builder
	for _, w := range Writers() {
		t0 := time.Now()
		opt := Options{OCSFCompliance: n <= 10_000}
		c := &countingWriter{}
		var out io.Writer = c
		switch w.Name() {
		case "json":
			f, err := os.Create(filepath.Join(dir, "report.json"))
			if err != nil {
				t.Fatal(err)
			}
			bw := bufio.NewWriterSize(io.MultiWriter(f, c), 256<<10)
			err = w.Write(bw, d, opt)
			if err == nil {
				err = bw.Flush()
			}
			f.Close()
			if err != nil {
				t.Fatalf("json: %v", err)
			}
			sizes[w.Name()] = c.n
			took[w.Name()] = time.Since(t0)
			continue
		case "text":
			out = io.MultiWriter(c, &text)
		}
		if err := w.Write(out, d, opt); err != nil {
			t.Fatalf("%s: %v", w.Name(), err)
		}
		sizes[w.Name()] = c.n
		took[w.Name()] = time.Since(t0)
	}
	peak := stop()
	t.Logf("took %v", took)
	growth := int64(peak) - int64(before.HeapInuse)
	t.Logf("%d resources: spooled in %v, all formats in %v; heap in use peaked %.1f MB above the start (budget %d MB); output sizes %v",
		n, spooled.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), float64(growth)/(1<<20), budget>>20, sizes)
	if growth > budget {
		t.Errorf("heap in use grew by %.1f MB writing %d resources, over the %d MB budget", float64(growth)/(1<<20), n, budget>>20)
	}

	// The counts stay exact however much is left out.
	if d.Summary.Resources != n || d.Summary.Unknown != n/1000 {
		t.Errorf("summary %+v", d.Summary)
	}
	low := d.Summary.BySeverity["low"]
	if want := fmt.Sprintf("== LOW (%d) ==", low); !strings.Contains(text.String(), want) {
		t.Errorf("text lacks %q", want)
	}
	if want := fmt.Sprintf("… and %d more low findings (all of them are in -o json/csv/sarif)", low-textMaxFindings); !strings.Contains(text.String(), want) {
		t.Errorf("text lacks %q", want)
	}
	if sizes["json"] < int64(n)*1000 {
		t.Errorf("json is %d bytes for %d resources: resources are missing", sizes["json"], n)
	}
}
