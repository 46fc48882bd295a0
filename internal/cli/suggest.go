package cli

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

var unknownFlagRe = regexp.MustCompile(`^unknown flag: --([^\s=]+)`)

// flagError turns pflag's complaint into a usage error, suggesting the
// nearest flag of the command for a mistyped one ("--regoin": did you
// mean --region?).
func flagError(cmd *cobra.Command, err error) error {
	msg := err.Error()
	if m := unknownFlagRe.FindStringSubmatch(msg); m != nil {
		if near := nearestFlag(cmd, m[1]); near != "" {
			return usagef("%s; did you mean --%s? (see 'lambdawarden %s --help')", msg, near, cmd.Name())
		}
	}
	return usagef("%s (see 'lambdawarden %s --help')", msg, cmd.Name())
}

// nearestFlag returns the command's flag closest to name, or "" when
// none is close enough to be a typo of it.
func nearestFlag(cmd *cobra.Command, name string) string {
	best, bestDist := "", 0
	consider := func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		d := levenshtein(strings.ToLower(name), f.Name)
		// A prefix of a flag ("--all" for --all-regions) is close too.
		if strings.HasPrefix(f.Name, name) && len(name) >= 3 {
			d = min(d, 1)
		}
		if best == "" || d < bestDist || d == bestDist && f.Name < best {
			best, bestDist = f.Name, d
		}
	}
	cmd.Flags().VisitAll(consider)
	cmd.InheritedFlags().VisitAll(consider)
	limit := max(2, len(name)/3)
	if best == "" || bestDist > limit {
		return ""
	}
	return best
}

// levenshtein is the edit distance between a and b (insertions,
// deletions, substitutions, and swaps of neighbours, which typing makes
// most).
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// oneLine folds cobra's multi-line messages (unknown command with
// "Did you mean this?") into one line.
func oneLine(msg string) string {
	msg = strings.TrimSpace(msg)
	if i := strings.Index(msg, "\n\nDid you mean this?"); i >= 0 {
		var names []string
		for _, l := range strings.Split(msg[i:], "\n")[1:] {
			if l = strings.TrimSpace(l); l != "" && l != "Did you mean this?" {
				names = append(names, l)
			}
		}
		return fmt.Sprintf("%s; did you mean %s?", msg[:i], strings.Join(names, " or "))
	}
	return strings.Join(strings.Fields(msg), " ")
}
