// Package chromiumtest drives the real headless Chromium for tests of
// HTML pages: load a page (file or loopback URL) and dump its DOM, or
// save a screenshot. Without Chromium a test skips with a clear message,
// and fails when CI=true.
package chromiumtest

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Find returns the Chromium binary: $LW_CHROMIUM, /usr/bin/chromium, or
// chromium / chromium-browser on PATH.
func Find(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("LW_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("headless Chromium is required under CI=true (set LW_CHROMIUM or install chromium)")
	}
	t.Skip("skipping: headless Chromium not found (set LW_CHROMIUM or install chromium)")
	return ""
}

// Run loads page in headless Chromium with a fresh profile and network
// features off, adding args (--dump-dom, --screenshot=FILE); it returns
// standard output.
func Run(t testing.TB, bin, page string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
		"--user-data-dir=" + t.TempDir(), "--virtual-time-budget=5000",
	}
	cmd := exec.CommandContext(ctx, bin, append(append(base, args...), page)...)
	ownProcessGroup(cmd)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s on %s: %v\n%s", bin, page, err, tail(stderr.String(), 2000))
	}
	return stdout.String()
}

// Screenshot saves a PNG of page as an artifact (in $LW_TEST_ARTIFACTS
// when set, else the test's temporary directory), checks it is not a
// blank page and returns its path.
func Screenshot(t testing.TB, bin, page, name string) string {
	t.Helper()
	dir := os.Getenv("LW_TEST_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, name)
	Run(t, bin, page, "--screenshot="+shot, "--window-size=1280,1800")
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if colours(img) < 8 {
		t.Fatalf("screenshot %s looks blank", shot)
	}
	t.Logf("screenshot: %s", shot)
	return shot
}

// colours counts distinct colours, up to 64, on a grid of samples.
func colours(img image.Image) int {
	b := img.Bounds()
	seen := map[[3]uint32]bool{}
	for y := b.Min.Y; y < b.Max.Y; y += 7 {
		for x := b.Min.X; x < b.Max.X; x += 7 {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
			if len(seen) >= 64 {
				return len(seen)
			}
		}
	}
	return len(seen)
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
