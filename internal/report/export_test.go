package report

// Test helpers of this package that the end-to-end tests of package
// report_test (which run the real CLI, so cannot live here: cli imports
// report) use too. Declared in a _test file, they are not part of the
// package's API.
var (
	CheckGitHubIngestion = checkGitHubIngestion
	CheckASFFFinding     = checkASFFFinding
	Chromium             = chromium
	OutsideTool          = outsideTool
)

// Invisible reports whether Inert would escape r.
func Invisible(r rune) bool { return r < 0x20 || r == 0x7f || invisible(r) }
