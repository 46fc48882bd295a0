package report_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lambdawarden/lambdawarden/internal/emulator"
	"github.com/lambdawarden/lambdawarden/internal/emulator/emulatortest"
	"github.com/lambdawarden/lambdawarden/internal/report"
	"github.com/lambdawarden/lambdawarden/internal/rules"
)

// Hostile strings an estate can hold in the places a scan reads: Sids,
// principal ARNs, condition values, policy Ids. Each is built to do harm
// if printed raw: set the terminal title (OSC 0), write the clipboard
// (OSC 52), clear the screen, colour the text, forge a CRITICAL line at
// column 0, reverse the text that follows (U+202E), run script in the
// HTML page, run a formula in a spreadsheet, and flood one line.
const (
	forgedLine   = "CRITICAL lambda-public-access  Lambda functions should restrict public access"
	hostileTitle = "\x1b]0;pwned-title\x07\x1b[31m\n" + forgedLine + "\n\u202eevil"
	hostileRole  = "arn:aws:iam::444455556666:role/\x1b[2Jrole\u202e<script>document.documentElement.setAttribute('data-pwned','1')</script>"
	formulaSid   = `=HYPERLINK("http://evil.example","click")`
	hostileCond  = "arn:aws:s3:::\x1b[5mbucket\u2066\r\nHIGH lambda-cross-account-access  forged"
	hostileID    = "\x1b]52;c;ZXZpbA==\x07<img src=x onerror=\"document.documentElement.setAttribute('data-pwned','1')\">"
)

var longSid = strings.Repeat("L", 20000)

const hostileFn = "arn:aws:lambda:us-east-1:111122223333:function:intake"

func hostileSeed(t *testing.T) *emulator.Seed {
	t.Helper()
	stmt := func(sid string, principal any, action string, cond any) map[string]any {
		s := map[string]any{"Sid": sid, "Effect": "Allow", "Principal": principal, "Action": action, "Resource": hostileFn}
		if cond != nil {
			s["Condition"] = cond
		}
		return s
	}
	policy := map[string]any{
		"Version": "2012-10-17",
		"Id":      hostileID,
		"Statement": []any{
			stmt(hostileTitle, "*", "lambda:InvokeFunction", nil),
			stmt(formulaSid, map[string]any{"AWS": hostileRole}, "lambda:InvokeFunction", nil),
			stmt(longSid, map[string]any{"Service": "s3.amazonaws.com"}, "lambda:InvokeFunction", map[string]any{"ArnLike": map[string]any{"AWS:SourceArn": hostileCond}}),
			stmt("+cmd|' /C calc'!A0", "*", "lambda:GetFunction", nil),
		},
	}
	raw, err := json.Marshal(policy)
	if err != nil {
		t.Fatal(err)
	}
	layer, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
		"Sid": "@SUM(1+1)\x1b[8m", "Effect": "Allow", "Principal": "*", "Action": "lambda:GetLayerVersion",
		"Resource": "arn:aws:lambda:us-east-1:111122223333:layer:libs:1",
	}}})
	seed := &emulator.Seed{Accounts: []emulator.SeedAccount{{ID: "111122223333", Regions: map[string]emulator.SeedRegion{"us-east-1": {
		Functions: []emulator.SeedFunction{{
			Name: "intake", Policy: raw, Description: hostileTitle,
			Tags: map[string]string{"owner\x1b[31m": "\u202e" + forgedLine},
		}},
		Layers: []emulator.SeedLayer{{Name: "libs", Versions: []emulator.SeedLayerVersion{{Version: 1, Policy: layer, Description: hostileTitle}}}},
	}}}}}
	if err := seed.Validate(); err != nil {
		t.Fatal(err)
	}
	return seed
}

// hostileScan serves the hostile estate on the emulator and scans it
// through the real CLI and AWS SDK, every format to a file.
func hostileScan(t *testing.T) (dir, stdout, stderr string) {
	t.Helper()
	_, url := emulatortest.Serve(t, hostileSeed(t), emulator.Options{}, "111122223333")
	dir = t.TempDir()
	args := []string{"scan", "--endpoint-url", url, "--regions", "us-east-1", "--pace", "none", "--no-roles", "--thorough", "-o", "text"}
	for _, f := range []string{"json", "csv", "sarif", "asff", "ocsf", "junit", "html", "text"} {
		args = append(args, "-o", f+"="+filepath.Join(dir, "report."+f))
	}
	code, out, errOut := runCLI(t, "", args...)
	if code != 1 {
		t.Fatalf("scan of the hostile estate: exit %d, want 1 (public grants)\n%s", code, errOut)
	}
	return dir, out, errOut
}

// controlProblems names the first control, bidi or other invisible
// character in data, except the newlines of its own layout.
func controlProblems(what string, data []byte) []string {
	if !utf8.Valid(data) {
		return []string{what + " is not valid UTF-8"}
	}
	for i, r := range string(data) {
		if r != '\n' && report.Invisible(r) {
			return []string{fmt.Sprintf("%s holds %U at byte %d: …%q…", what, r, i, data[max(0, i-40):min(len(data), i+40)])}
		}
	}
	return nil
}

func checkNoControls(t *testing.T, what string, data []byte) {
	t.Helper()
	for _, p := range controlProblems(what, data) {
		t.Error(p)
	}
}

var severityLine = regexp.MustCompile(`^(CRITICAL|HIGH|MEDIUM|LOW|INFO)\b`)

// textProblems is what makes a text report not inert: a control byte, a
// line at column 0 that starts with a severity without being a real
// finding's heading, more such lines than findings (a forged line is one
// more), a line longer than the caps allow.
func textProblems(what, text string, findings int) []string {
	out := controlProblems(what, []byte(text))
	titles := map[string]string{}
	for _, r := range rules.All() {
		titles[r.ID] = r.Title
	}
	headings := 0
	for _, line := range strings.Split(text, "\n") {
		if n := utf8.RuneCountInString(line); n > 1400 {
			out = append(out, fmt.Sprintf("%s: a line of %d characters: %.100q…", what, n, line))
		}
		if !severityLine.MatchString(line) {
			continue
		}
		headings++
		f := strings.Fields(line)
		head := strings.TrimSpace(strings.TrimPrefix(line, f[0]))
		rule, title, _ := strings.Cut(head, "  ")
		if titles[rule] == "" || strings.TrimSuffix(title, "  [SUPPRESSED]") != titles[rule] {
			out = append(out, fmt.Sprintf("%s: a line at column 0 that is no finding's heading: %q", what, line))
		}
	}
	if headings != findings {
		out = append(out, fmt.Sprintf("%s: %d lines start with a severity, for %d findings: some are forged", what, headings, findings))
	}
	return out
}

// checkText fails for textProblems, and when the hostile strings are not
// there, escaped (they did not reach the report: the test proves nothing).
func checkText(t *testing.T, what, text string, findings int) {
	t.Helper()
	for _, p := range textProblems(what, text, findings) {
		t.Error(p)
	}
	for _, want := range []string{`\u001b]0;pwned-title\u0007`, `\u202eevil`, `\nCRITICAL lambda-public-access`, `… (20000 chars)`} {
		if !strings.Contains(text, want) {
			t.Errorf("%s does not show %q: the hostile strings did not reach it, or not escaped", what, want)
		}
	}
}

// analyze prints the hostile policy's statements inert too.
func TestHostilePolicyIsInertInAnalyzeText(t *testing.T) {
	seed := hostileSeed(t)
	fn := seed.Accounts[0].Regions["us-east-1"].Functions[0]
	body, err := json.Marshal(map[string]string{"Policy": string(fn.Policy), "RevisionId": "r1"})
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, string(body), "analyze", "-", "-o", "json", "--resource-arn", hostileFn)
	if code != 1 {
		t.Fatalf("analyze -o json: exit %d: %s", code, errOut)
	}
	var r report.Resource
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI(t, string(body), "analyze", "-", "-o", "text", "--resource-arn", hostileFn)
	if code != 1 {
		t.Fatalf("analyze -o text: exit %d: %s", code, errOut)
	}
	checkText(t, "analyze text", out, len(r.Findings))
	checkNoControls(t, "analyze standard error", []byte(errOut))
}

// The checks see what they look for: the hostile Sid printed raw, as the
// text report did before, fails them.
func TestHostileChecksCatchRawOutput(t *testing.T) {
	heading := "CRITICAL lambda-public-access  Lambda functions should restrict public access"
	raw := heading + "\n  statement Sid \"" + hostileTitle + "\", index 0\n  why       " + longSid + "\n"
	problems := strings.Join(textProblems("raw", raw, 1), "\n")
	for _, want := range []string{"holds U+001B", "some are forged", "a line of 20012 characters"} {
		if !strings.Contains(problems, want) {
			t.Errorf("the checks missed %q in a raw rendering; they found:\n%s", want, problems)
		}
	}
	if p := controlProblems("raw", []byte("a\u202eb")); len(p) == 0 {
		t.Error("U+202E went unnoticed")
	}
}

// Every format written from one hostile estate, scanned through the real
// SDK, is inert: text and junit print no control characters and forge no
// lines, the JSON formats parse and keep the data, csv runs no formula,
// the HTML page runs only its own script.
func TestHostileEstateIsInertInEveryFormat(t *testing.T) {
	dir, stdout, stderr := hostileScan(t)
	read := func(f string) []byte {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(dir, "report."+f))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}

	var doc report.Document
	if err := json.Unmarshal(read("json"), &doc); err != nil {
		t.Fatalf("json does not parse: %v", err)
	}
	findings := 0
	for _, r := range doc.Resources {
		findings += len(r.Findings)
	}
	if findings < 4 {
		t.Fatalf("the hostile estate gave %d findings; the test needs its grants judged", findings)
	}

	t.Run("text", func(t *testing.T) {
		checkText(t, "text report", string(read("text")), findings)
		checkText(t, "standard output", stdout, findings)
		checkNoControls(t, "standard error", []byte(stderr))
	})

	t.Run("json", func(t *testing.T) {
		data := read("json")
		checkNoControls(t, "json", data)
		var d report.Document
		if err := json.Unmarshal(data, &d); err != nil {
			t.Fatalf("json does not parse: %v", err)
		}
		sids := map[string]bool{}
		for _, r := range d.Resources {
			for _, f := range r.Findings {
				if f.Statement != nil {
					sids[f.Statement.Sid] = true
				}
			}
		}
		// The JSON keeps the data whole: escaped, not cut.
		for _, want := range []string{hostileTitle, longSid, formulaSid} {
			if !sids[want] {
				t.Errorf("json lost the Sid %.60q (has %d Sids)", want, len(sids))
			}
		}
	})

	t.Run("csv", func(t *testing.T) {
		data := read("csv")
		checkNoControls(t, "csv", bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n")))
		rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil {
			t.Fatalf("csv does not parse: %v", err)
		}
		if len(rows) < 4 {
			t.Fatalf("%d csv rows", len(rows))
		}
		formulas := 0
		for _, row := range rows {
			for _, cell := range row {
				if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
					t.Errorf("csv cell starts a formula: %.80q", cell)
				}
				if strings.HasPrefix(cell, "'=") || strings.HasPrefix(cell, "'+") || strings.HasPrefix(cell, "'@") {
					formulas++
				}
			}
		}
		if formulas < 3 {
			t.Errorf("only %d defused formula cells: the hostile Sids did not reach the csv", formulas)
		}
	})

	t.Run("sarif", func(t *testing.T) {
		data := read("sarif")
		checkNoControls(t, "sarif", data)
		report.CheckGitHubIngestion(t, data)
	})

	t.Run("asff", func(t *testing.T) {
		data := read("asff")
		checkNoControls(t, "asff", data)
		var list []map[string]any
		if err := json.Unmarshal(data, &list); err != nil || len(list) == 0 {
			t.Fatalf("asff: %d findings, %v", len(list), err)
		}
		for _, f := range list {
			report.CheckASFFFinding(t, f)
		}
	})

	t.Run("ocsf", func(t *testing.T) {
		data := read("ocsf")
		checkNoControls(t, "ocsf", data)
		var events []map[string]any
		if err := json.Unmarshal(data, &events); err != nil || len(events) == 0 {
			t.Fatalf("ocsf: %d events, %v", len(events), err)
		}
	})

	t.Run("junit", func(t *testing.T) {
		data := read("junit")
		checkNoControls(t, "junit", data)
		dec := xml.NewDecoder(bytes.NewReader(data))
		failures := 0
		for {
			tok, err := dec.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("junit is not well-formed XML: %v", err)
			}
			if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "failure" {
				failures++
				var body string
				if err := dec.DecodeElement(&body, &se); err != nil {
					t.Fatal(err)
				}
				for _, line := range strings.Split(body, "\n") {
					if strings.HasPrefix(line, forgedLine) || strings.HasPrefix(line, "HIGH lambda-cross-account-access  forged") {
						t.Errorf("junit failure body forges a line: %q", line)
					}
				}
			}
		}
		if failures == 0 {
			t.Error("no junit failures: the hostile estate's findings are missing")
		}
	})

	t.Run("html", func(t *testing.T) {
		data := read("html")
		checkNoControls(t, "html", data)
		bin := report.OutsideTool(t, "headless Chromium", "LW_CHROMIUM", "/usr/bin/chromium", "chromium", "chromium-browser")
		dom := report.Chromium(t, bin, "file://"+filepath.Join(dir, "report.html"), "--dump-dom")
		htmlTag := regexp.MustCompile(`<html[^>]*>`).FindString(dom)
		if !strings.Contains(htmlTag, `data-lw-ready="1"`) {
			t.Fatalf("the page's own script did not run: %s", htmlTag)
		}
		if strings.Contains(htmlTag, "data-pwned") {
			t.Fatalf("script from the estate ran: %s", htmlTag)
		}
		if n := strings.Count(dom, "<script"); n != 1 {
			t.Errorf("%d <script> elements in the DOM, want only ours", n)
		}
		if strings.Contains(dom, "<img src=") {
			t.Error("estate text became an <img> element")
		}
		if !strings.Contains(dom, `\u001b]0;pwned-title`) {
			t.Error("the hostile Sid is not shown, escaped, in the page")
		}
	})
}
