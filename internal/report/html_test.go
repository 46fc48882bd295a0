package report

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"html"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

const hostileSid = "<script>alert(1)</script>"

var urlRe = regexp.MustCompile(`https?://[^\s"'<>&]+`)

// estateURLs are the URLs that come from the estate (function URLs in
// the test document); they may appear in the page as data.
func estateURLs(d *Document) []string {
	var out []string
	for _, r := range d.Resources {
		if r.FunctionURL != nil {
			out = append(out, r.FunctionURL.URL)
		}
		for _, f := range r.Findings {
			out = append(out, urlRe.FindAllString(f.Explanation, -1)...)
		}
	}
	return out
}

// TestHTMLSelfContained checks the page without a browser: nothing is
// fetched, the only script is ours and allowed by hash in the CSP, and
// estate data is escaped.
func TestHTMLSelfContained(t *testing.T) {
	d := loadDocument(t)
	out := string(render(t, "html", d, Options{}))

	stripped := out
	for _, u := range estateURLs(d) {
		stripped = strings.ReplaceAll(stripped, u, "")
	}
	if m := urlRe.FindAllString(stripped, -1); len(m) > 0 {
		t.Errorf("the page names URLs that are not estate data: %v", m)
	}
	for _, re := range []string{`(?i)<link\b`, `(?i)<(script|img|iframe|embed|object|source|audio|video)\b[^>]*\bsrc\s*=`, `(?i)@import`, `(?i)url\(`} {
		if regexp.MustCompile(re).MatchString(out) {
			t.Errorf("the page can fetch something: matches %s", re)
		}
	}
	scripts := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindAllStringSubmatch(out, -1)
	if len(scripts) != 1 || strings.Count(strings.ToLower(out), "<script") != 1 {
		t.Fatalf("want exactly one <script> element (ours), found %d", strings.Count(strings.ToLower(out), "<script"))
	}
	sum := sha256.Sum256([]byte(scripts[0][1]))
	csp := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]*)">`).FindStringSubmatch(out)
	if csp == nil {
		t.Fatal("no Content-Security-Policy")
	}
	policy := html.UnescapeString(csp[1])
	if !strings.Contains(policy, "default-src 'none'") || !strings.Contains(policy, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") {
		t.Errorf("the CSP does not allow exactly our script: %s", policy)
	}
	if !strings.Contains(out, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the hostile Sid is not shown escaped")
	}
	if strings.Contains(out, "</script><script>document") || strings.Contains(out, "<img src=x") {
		t.Error("policy text reached the page unescaped")
	}
	for _, r := range d.Resources {
		if !strings.Contains(out, html.EscapeString(r.ARN)) {
			t.Errorf("resource %s is missing", r.ARN)
		}
		for _, f := range r.Findings {
			if !strings.Contains(out, html.EscapeString(f.Explanation)) {
				t.Errorf("the explanation of %s on %s is missing", f.RuleID, r.ARN)
			}
			for _, c := range f.Remediation.Commands {
				if !strings.Contains(out, `data-copy="`+html.EscapeString(c)+`"`) {
					t.Errorf("no copy button for %q", c)
				}
			}
		}
	}
	if !strings.Contains(out, `<mark class="lw-offending">`) || !strings.Contains(out, "45 CFR 164.312(a)(1)") {
		t.Error("no highlighted statement or HIPAA mapping")
	}
}

// chromium runs headless Chromium on a page with a fresh profile and the
// flags that keep it off the network, adding args (--dump-dom or
// --screenshot=...). It returns standard output.
func chromium(t *testing.T, bin, page string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
		"--user-data-dir=" + t.TempDir(),
		"--virtual-time-budget=5000",
	}
	cmd := exec.CommandContext(ctx, bin, append(append(base, args...), page)...)
	// Chromium forks helpers; on a timeout kill them all, not just the
	// browser process, and do not wait forever on their pipes.
	ownProcessGroup(cmd)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			// An alert() that got into the page leaves headless Chromium
			// waiting on the dialog forever.
			t.Fatalf("%s timed out on %s: a JavaScript dialog (alert from injected script?) or a hung renderer\n%s", bin, page, tail(stderr.String(), 2000))
		}
		t.Fatalf("%s: %v\n%s", bin, err, tail(stderr.String(), 2000))
	}
	return stdout.String()
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

var (
	tbodyRe = regexp.MustCompile(`<tbody ([^>]*)>`)
	attrRe  = regexp.MustCompile(`([a-z-]+)="([^"]*)"`)
)

// domItems returns the attributes of every entry in a dumped DOM.
func domItems(dom string) []map[string]string {
	var out []map[string]string
	for _, m := range tbodyRe.FindAllStringSubmatch(dom, -1) {
		attrs := map[string]string{}
		for _, a := range attrRe.FindAllStringSubmatch(m[1], -1) {
			attrs[a[1]] = html.UnescapeString(a[2])
		}
		if strings.Contains(attrs["class"], "lw-item") {
			out = append(out, attrs)
		}
	}
	return out
}

// TestHTMLInChromium opens the page in headless Chromium: the script
// runs, the findings render, the hash filter hides exactly the entries
// that do not match, copy buttons are there, the hostile Sid and policy
// stay text, and a screenshot is not blank.
func TestHTMLInChromium(t *testing.T) {
	bin := outsideTool(t, "headless Chromium", "LW_CHROMIUM", "/usr/bin/chromium", "chromium", "chromium-browser")
	d := loadDocument(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	if err := os.WriteFile(path, render(t, "html", d, Options{}), 0o644); err != nil {
		t.Fatal(err)
	}
	page := "file://" + path

	dom := chromium(t, bin, page, "--dump-dom")
	htmlTag := regexp.MustCompile(`<html[^>]*>`).FindString(dom)
	if !strings.Contains(htmlTag, `data-lw-ready="1"`) {
		t.Fatalf("the page's script did not run (no data-lw-ready): %s", htmlTag)
	}
	if strings.Contains(htmlTag, "data-pwned") || strings.Contains(dom, "<title>pwned") {
		t.Fatalf("script from the policy text ran: %s", htmlTag)
	}
	if n := strings.Count(dom, "<script"); n != 1 {
		t.Errorf("%d <script> elements in the DOM, want 1: estate text became markup", n)
	}
	if strings.Contains(dom, "<img src=") || !strings.Contains(dom, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the hostile Sid or policy is not plain text in the DOM")
	}
	items := domItems(dom)
	findings := 0
	for _, r := range d.Resources {
		findings += len(r.Findings)
		if len(r.Findings) == 0 {
			findings++ // an unknown resource or one without findings has its own entry
		}
	}
	if len(items) != findings {
		t.Fatalf("%d entries in the rendered page, want %d", len(items), findings)
	}
	for _, it := range items {
		if _, hidden := it["hidden"]; hidden {
			t.Errorf("entry %s hidden without a filter", it["id"])
		}
	}
	if n := strings.Count(dom, `class="lw-copy"`); n == 0 {
		t.Error("no copy buttons in the rendered page")
	}

	for _, tc := range []struct {
		hash  string
		match func(map[string]string) bool
	}{
		{"rule=lambda-cross-account-access", func(a map[string]string) bool { return a["data-rule"] == "lambda-cross-account-access" }},
		{"severity=critical&account=111122223333", func(a map[string]string) bool {
			return a["data-severity"] == "critical" && a["data-account"] == "111122223333"
		}},
		{"exposure=org", func(a map[string]string) bool { return a["data-exposure"] == "org" }},
		{"region=eu-west-1&severity=unknown", func(a map[string]string) bool {
			return a["data-region"] == "eu-west-1" && a["data-severity"] == "unknown"
		}},
	} {
		t.Run(tc.hash, func(t *testing.T) {
			dom := chromium(t, bin, page+"#"+tc.hash, "--dump-dom")
			shown := 0
			for _, it := range domItems(dom) {
				_, hidden := it["hidden"]
				if tc.match(it) == hidden {
					t.Errorf("entry %s (rule %q, account %s, severity %s): hidden=%v", it["id"], it["data-rule"], it["data-account"], it["data-severity"], hidden)
				}
				if !hidden {
					shown++
				}
			}
			if shown == 0 {
				t.Fatal("the filter shows nothing; the test document should match it")
			}
			if want := `<span id="lw-visible">` + strconv.Itoa(shown) + `</span>`; !strings.Contains(dom, want) {
				t.Errorf("the visible count does not say %d", shown)
			}
		})
	}

	// Control: the same hostile policy text pasted raw into a page does
	// run, so the canary checks above can see an injection. (Our page
	// would also stop it with its CSP; the <script> count above checks the
	// escaping on its own.)
	raw := filepath.Join(dir, "unescaped.html")
	hostile := ""
	for _, r := range d.Resources {
		if strings.Contains(r.Policy, "data-pwned") {
			hostile = r.Policy
		}
	}
	if hostile == "" {
		t.Fatal("the test document lost its hostile policy")
	}
	// alert() would block headless Chromium on its dialog; the canary is
	// the data-pwned payload.
	hostile = strings.ReplaceAll(hostile, "alert(1)", "void 0")
	if err := os.WriteFile(raw, []byte("<!DOCTYPE html><html><head><title>control</title></head><body><pre>"+hostile+"</pre></body></html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if control := chromium(t, bin, "file://"+raw, "--dump-dom"); !strings.Contains(regexp.MustCompile(`<html[^>]*>`).FindString(control), `data-pwned="1"`) {
		t.Errorf("the canary did not fire on an unescaped page, so the XSS checks prove nothing:\n%s", tail(control, 1500))
	}

	shot := filepath.Join(dir, "report.png")
	chromium(t, bin, page, "--screenshot="+shot, "--window-size=1280,1600")
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	checkNotBlank(t, img)
}

// checkNotBlank fails when an image is (nearly) one colour: a page that
// failed to render is a white rectangle.
func checkNotBlank(t *testing.T, img image.Image) {
	t.Helper()
	b := img.Bounds()
	if b.Dx() < 200 || b.Dy() < 200 {
		t.Fatalf("screenshot is %dx%d", b.Dx(), b.Dy())
	}
	bg := img.At(b.Min.X, b.Min.Y)
	br, bgG, bb, _ := bg.RGBA()
	colors := map[[3]uint32]bool{}
	differ, total := 0, 0
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colors[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
			total++
			if absDiff(r, br)+absDiff(g, bgG)+absDiff(bl, bb) > 3*0x1000 {
				differ++
			}
		}
	}
	frac := float64(differ) / float64(total)
	if len(colors) < 16 || frac < 0.02 {
		t.Errorf("screenshot looks blank: %d colours, %.1f%% of pixels differ from the background", len(colors), 100*frac)
	}
	t.Logf("screenshot: %dx%d, %d colours, %.1f%% non-background", b.Dx(), b.Dy(), len(colors), 100*frac)
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}
