package cli

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lambdawarden/lambdawarden/internal/history"
	"github.com/lambdawarden/lambdawarden/internal/history/pgtest"
)

// TestMain is in outfile_test.go; it stops the shared PostgreSQL cluster.

// testClock is the history's clock in CLI tests.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// runCLIAt runs the command line with the history's clock at c.
func runCLIAt(t *testing.T, c *testClock, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{ctx: context.Background(), stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }, now: c.now}
	code := e.run(args)
	return code, out.String(), errb.String()
}

// historyVolatile is what changes from run to run in history output:
// real scan times, hashes over them, the emulator's revision ids.
var historyVolatile = regexp.MustCompile(`"(started_at|finished_at|version|tool_version|catalog_version|hash|prev_hash|head|revision_id|api_calls)": ("[^"]*"|\d+)`)

func historyGolden(t *testing.T, name, got string) {
	t.Helper()
	golden(t, name, historyVolatile.ReplaceAllString(got, `"$1": "REDACTED"`))
}

// lambdaClient is the real SDK's Lambda client on the emulator.
func lambdaClient(url string) *lambda.Client {
	return lambda.New(lambda.Options{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("AKIA111122223333", "x", "")})
}

var historyBackends = []struct {
	name string
	dsn  func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "history.db") }},
	{"postgres", func(t *testing.T) string { return pgtest.DSN(t) }},
}

// TestHistoryOverTheEmulator is the "done when": scans of the
// emulator over the real SDK, a public permission added between two of
// them, diff naming it, its lifecycle, the fix, and verify.
func TestHistoryOverTheEmulator(t *testing.T) {
	for _, b := range historyBackends {
		t.Run(b.name, func(t *testing.T) {
			_, args := liveEstate(t)
			url := args[1]
			dsn := b.dsn(t)
			clk := &testClock{t: time.Date(2025, 3, 1, 6, 0, 0, 0, time.UTC)}
			scan := func() {
				t.Helper()
				code, _, errOut := runCLIAt(t, clk, append([]string{"scan", "--history", dsn, "-o", "json=" + filepath.Join(t.TempDir(), "r.json"), "--fail-on", "none"}, args...)...)
				if code != exitIncomplete { // the demo's unreadable policy
					t.Fatalf("scan: exit %d: %s", code, errOut)
				}
			}
			hist := func(want int, a ...string) string {
				t.Helper()
				code, out, errOut := runCLIAt(t, clk, append(a, "--history", dsn)...)
				if code != want {
					t.Fatalf("%v: exit %d, want %d: %s%s", a, code, want, out, errOut)
				}
				return out
			}

			scan()
			clk.add(24 * time.Hour)
			hist(0, "diff", "1", "1", "-o", "text")
			// Between the scans someone opens lab-results to everyone.
			lc := lambdaClient(url)
			_, err := lc.AddPermission(context.Background(), &lambda.AddPermissionInput{FunctionName: aws.String("lab-results"),
				StatementId: aws.String("vendor-debug"), Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("*")})
			if err != nil {
				t.Fatal(err)
			}
			scan()

			out := hist(exitFindings, "diff", "-o", "text")
			historyGolden(t, "history-diff.txt", out)
			if !strings.Contains(out, "+ added    sid:vendor-debug") {
				t.Errorf("diff does not name the new statement:\n%s", out)
			}
			historyGolden(t, "history-diff.json", hist(exitFindings, "diff", "-o", "json"))

			key := "arn:aws:lambda:us-east-1:111122223333:function:lab-results|lambda-public-access|sid:vendor-debug"
			f := findingOf(t, hist(0, "history", "findings", "--rule", "lambda-public-access", "--open", "-o", "json"), key)
			if f.FirstScan != 2 || !f.FirstSeen.Equal(time.Date(2025, 3, 2, 6, 0, 0, 0, time.UTC)) || !f.Open() {
				t.Fatalf("the new finding: %+v", f)
			}

			// Fixed six hours later, and scanned again.
			clk.add(6 * time.Hour)
			if _, err := lc.RemovePermission(context.Background(), &lambda.RemovePermissionInput{FunctionName: aws.String("lab-results"), StatementId: aws.String("vendor-debug")}); err != nil {
				t.Fatal(err)
			}
			scan()
			f = findingOf(t, hist(0, "history", "findings", "--resource", "arn:aws:lambda:us-east-1:111122223333:function:lab-results", "-o", "json"), key)
			if f.Open() || f.ResolvedScan != 3 || f.TimeToFix == nil || time.Duration(*f.TimeToFix) != 6*time.Hour {
				t.Fatalf("the fixed finding: %+v", f)
			}
			text := hist(0, "history", "findings", "--rule", "lambda-public-access", "-o", "text")
			if !strings.Contains(text, "resolved") || !strings.Contains(text, "6h0m") {
				t.Errorf("findings as text lack the resolution:\n%s", text)
			}
			// The unreadable policy's resource: never resolved.
			if strings.Contains(hist(0, "diff", "2", "3", "-o", "text"), "WORSE") {
				t.Errorf("fixing made the diff worse")
			}

			res := hist(0, "history", "resource", "arn:aws:lambda:us-east-1:111122223333:function:lab-results", "-o", "text")
			historyGolden(t, "history-resource.txt", res)
			historyGolden(t, "history-scans.txt", hist(0, "history", "-o", "text"))

			evDir := t.TempDir()
			hist(0, "evidence", "--from", "2025-03-01", "--to", "2025-03-31", "-o", "html="+filepath.Join(evDir, "e.html"), "-o", "json="+filepath.Join(evDir, "e.json"))
			var pack struct {
				Scans    []json.RawMessage
				Findings []struct {
					Key          string
					ResolvedScan int64 `json:"resolved_scan"`
				}
				Chart []struct{ Total int }
			}
			if err := json.Unmarshal([]byte(mustRead(t, filepath.Join(evDir, "e.json"))), &pack); err != nil {
				t.Fatal(err)
			}
			resolvedInPack := false
			for _, f := range pack.Findings {
				resolvedInPack = resolvedInPack || f.Key == key && f.ResolvedScan == 3
			}
			if len(pack.Scans) != 3 || !resolvedInPack || len(pack.Chart) != 2 {
				t.Errorf("evidence: %d scans, the fixed finding's interval there: %v, %d chart days", len(pack.Scans), resolvedInPack, len(pack.Chart))
			}
			if page := mustRead(t, filepath.Join(evDir, "e.html")); !strings.Contains(page, "<svg") || !strings.Contains(page, "lab-results") {
				t.Errorf("the evidence page lacks the chart or the finding")
			}

			if out := hist(0, "history", "--verify", "-o", "text"); !strings.Contains(out, "History intact: 3 scans") {
				t.Errorf("verify: %s", out)
			}
			tamper(t, dsn, `UPDATE scans SET caller = 'arn:aws:iam::111122223333:user/mallory' WHERE id = 2`)
			out = hist(exitFindings, "history", "--verify", "-o", "text")
			if !strings.Contains(out, "scan 2: its content") {
				t.Errorf("verify after an edit: %s", out)
			}
		})
	}
}

func findingOf(t *testing.T, out, key string) history.Finding {
	t.Helper()
	var doc struct{ Findings []history.Finding }
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, f := range doc.Findings {
		if f.Key == key {
			return f
		}
	}
	t.Fatalf("no finding %s in %s", key, out)
	return history.Finding{}
}

// tamper edits the history behind lambdawarden's back.
func tamper(t *testing.T, dsn, query string) {
	t.Helper()
	driver, src := "sqlite", dsn
	if history.IsPostgres(dsn) {
		driver = "pgx"
	}
	db, err := sql.Open(driver, src)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(query); err != nil {
		t.Fatal(err)
	}
}

func TestHistoryInputErrors(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "h.db")
	clk := &testClock{t: time.Now()}
	if code, _, errOut := runCLIAt(t, clk, "scan", "--demo", "--history", db, "-o", "json="+filepath.Join(dir, "r.json"), "--quiet"); code != exitFindings {
		t.Fatalf("demo scan into a history: exit %d: %s", code, errOut)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"history", "--history", filepath.Join(dir, "missing.db")}, "record one with: lambdawarden scan --history"},
		{[]string{"history", "--history", "mysql://x"}, "want a SQLite file path or a postgres:// URL"},
		{[]string{"history", "--history", db, "-o", "yaml"}, `-o "yaml": want text or json`},
		{[]string{"history", "findings", "--history", db, "--since", "yesterday"}, "is not a date"},
		{[]string{"history", "findings", "--history", db, "--account", "12"}, "12-digit"},
		{[]string{"history", "findings", "--history", db, "--rule", "nope"}, `unknown rule "nope"`},
		{[]string{"history", "resource", "--history", db, "intake"}, "is not an ARN"},
		{[]string{"history", "resource", "--history", db, "arn:aws:lambda:us-east-1:111122223333:function:never"}, "not found"},
		{[]string{"history", "prune", "--history", db, "--retain", "forever"}, "want days like 2190d"},
		{[]string{"diff", "--history", db}, "fewer than two covered scans"},
		{[]string{"diff", "--history", db, "1"}, "two scan ids or none"},
		{[]string{"diff", "--history", db, "1", "x"}, `"x" is not a scan id`},
		{[]string{"diff", "--history", db, "1", "9"}, "scan 9: not found"},
		{[]string{"scan", "--demo", "--history", "postgres://lw@127.0.0.1:1/none?connect_timeout=2"}, "--history: history postgres://lw@127.0.0.1:1/none"},
		{[]string{"scan", "--demo", "--history", dir}, "is a directory"},
		{[]string{"evidence", "--history", db, "--from", "2025-01-01"}, "needs the period"},
		{[]string{"evidence", "--history", db, "--from", "2025-02-01", "--to", "2025-01-01"}, "is after --to"},
		{[]string{"evidence", "--history", db, "--from", "2025-01-01", "--to", "Jan 31"}, "--to:"},
		{[]string{"evidence", "--history", db, "--from", "2025-01-01", "--to", "2025-01-31", "-o", "pdf"}, "want html[=FILE] or json[=FILE]"},
		{[]string{"evidence", "--history", db, "--from", "2025-01-01", "--to", "2025-01-31", "-o", "html", "-o", "json"}, "only one -o format"},
	}
	for _, c := range cases {
		code, out, errOut := runCLIAt(t, clk, c.args...)
		if code != exitUsage || !strings.Contains(errOut, c.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || out != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want exit 2 and one line with %q", c.args, code, errOut, out, c.want)
		}
	}
}

func TestScanHistoryFlagForms(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	dir := t.TempDir()
	clk := &testClock{t: time.Now()}
	run := func(args ...string) {
		t.Helper()
		if code, _, errOut := runCLIAt(t, clk, append([]string{"scan", "--demo", "--quiet", "-o", "json=" + filepath.Join(dir, "r.json")}, args...)...); code != exitFindings {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
	}
	run("--history")                               // the default file
	run("--history", filepath.Join(dir, "a.db"))   // a value after a space
	run("--history=" + filepath.Join(dir, "b.db")) // and after =
	cfg := writeFile(t, dir, "lambdawarden.yaml", "history: c.db\n")
	run("--config", cfg) // from the configuration file
	for _, db := range []string{filepath.Join(home, ".lambdawarden", "history.db"), filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db"), filepath.Join(dir, "c.db")} {
		code, out, errOut := runCLIAt(t, clk, "history", "--history", db, "-o", "json")
		if code != 0 || !strings.Contains(out, `"id": 1`) {
			t.Errorf("%s: exit %d: %s%s", db, code, out, errOut)
		}
	}
	// The read commands find the configuration file's history too.
	if code, out, errOut := runCLIAt(t, clk, "history", "--config", cfg, "-o", "json"); code != 0 || !strings.Contains(out, `"id": 1`) {
		t.Errorf("history --config: exit %d: %s%s", code, out, errOut)
	}
	if code, _, errOut := runCLIAt(t, clk, "scan", "--demo", "stray"); code != exitUsage || !strings.Contains(errOut, "no arguments") {
		t.Errorf("a stray argument without --history: exit %d: %s", code, errOut)
	}
}

// syncBuffer is in preflight_test.go.

func TestServeCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "h.db")
	clk := &testClock{t: time.Now()}
	if code, _, errOut := runCLIAt(t, clk, "scan", "--demo", "--quiet", "--history", db, "-o", "json="+filepath.Join(dir, "r.json")); code != exitFindings {
		t.Fatalf("scan: %d %s", code, errOut)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	e := &env{ctx: ctx, stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }, now: clk.now}
	codec := make(chan int, 1)
	go func() { codec <- e.run([]string{"serve", "--history", db, "--listen", "127.0.0.1:0"}) }()
	var base string
	for deadline := time.Now().Add(20 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := regexp.MustCompile(`http://[0-9.:]+/`).FindString(out.String()); m != "" {
			base = m
		}
	}
	if base == "" {
		cancel()
		t.Fatalf("serve did not say where it listens: %s %s", out.String(), errb.String())
	}
	resp, err := http.Get(base)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `<b id="n-scans">1</b>`) {
		t.Errorf("dashboard: %d %.500s", resp.StatusCode, body)
	}
	resp, err = http.Post(base, "text/plain", strings.NewReader("x"))
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST: %d", resp.StatusCode)
		}
	}
	cancel()
	select {
	case code := <-codec:
		if code != 0 {
			t.Errorf("serve exited %d: %s", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop when cancelled")
	}
	for _, listen := range []string{"0.0.0.0:8080", "192.168.1.5:80", "nonsense"} {
		if code, _, errOut := runCLIAt(t, clk, "serve", "--history", db, "--listen", listen); code != exitUsage || !strings.Contains(errOut, "--listen") {
			t.Errorf("--listen %s: exit %d %s", listen, code, errOut)
		}
	}
}
