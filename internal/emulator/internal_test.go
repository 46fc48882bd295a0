package emulator

import (
	"encoding/json"
	"go/build"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The emulator ships inside the lambdawarden binary (scan --demo) and must
// not depend on anything but the standard library.
func TestNonTestFilesImportOnlyTheStandardLibrary(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range src.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			pkg, err := build.Import(path, ".", build.FindOnly)
			if err != nil || !pkg.Goroot {
				t.Errorf("%s imports %s, which is not in the standard library", f, path)
			}
		}
		checked++
	}
	if checked < 10 {
		t.Fatalf("checked only %d files", checked)
	}
}

func TestParseFunctionRef(t *testing.T) {
	cases := []struct {
		in                               string
		region, account, name, qualifier string
	}{
		{"intake", "", "", "intake", ""},
		{"intake:prod", "", "", "intake", "prod"},
		{"intake:$LATEST", "", "", "intake", "$LATEST"},
		{"intake:7", "", "", "intake", "7"},
		{"111122223333:function:intake", "", "111122223333", "intake", ""},
		{"111122223333:function:intake:prod", "", "111122223333", "intake", "prod"},
		{"function:intake", "", "", "intake", ""},
		{"arn:aws:lambda:us-east-1:111122223333:function:intake", "us-east-1", "111122223333", "intake", ""},
		{"arn:aws:lambda:us-gov-west-1:111122223333:function:in_take-2:v-1", "us-gov-west-1", "111122223333", "in_take-2", "v-1"},
		{"arn:aws-cn:lambda:cn-north-1:111122223333:function:x", "cn-north-1", "111122223333", "x", ""},
	}
	for _, tc := range cases {
		got, err := parseFunctionRef(tc.in)
		if err != nil {
			t.Errorf("parseFunctionRef(%q): %v", tc.in, err)
			continue
		}
		if got.region != tc.region || got.account != tc.account || got.name != tc.name || got.qualifier != tc.qualifier {
			t.Errorf("parseFunctionRef(%q) = %+v", tc.in, got)
		}
	}
	for _, bad := range []string{"", "a b", "intake:prod:extra", "arn:aws:lambda:us-east-1:function:x", "arn:aws:s3:::bucket", strings.Repeat("x", 65), "intake:"} {
		if got, err := parseFunctionRef(bad); err == nil {
			t.Errorf("parseFunctionRef(%q) accepted: %+v", bad, got)
		}
	}
}

func TestParseResourceARN(t *testing.T) {
	for in, want := range map[string]resourceRef{
		"arn:aws:lambda:us-east-1:111122223333:function:f":      {region: "us-east-1", account: "111122223333", name: "f"},
		"arn:aws:lambda:us-east-1:111122223333:function:f:prod": {region: "us-east-1", account: "111122223333", name: "f", qualifier: "prod"},
		"arn:aws:lambda:us-east-1:111122223333:function:f:3":    {region: "us-east-1", account: "111122223333", name: "f", qualifier: "3"},
		"arn:aws:lambda:us-east-1:111122223333:layer:l:3":       {region: "us-east-1", account: "111122223333", layer: true, name: "l", version: 3},
	} {
		got, err := parseResourceARN(in)
		if err != nil || got != want {
			t.Errorf("parseResourceARN(%q) = %+v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"f", "arn:aws:lambda:us-east-1:111122223333:layer:l", "arn:aws:lambda:us-east-1:111122223333:layer:l:0", "111122223333:function:f"} {
		if _, err := parseResourceARN(bad); err == nil {
			t.Errorf("parseResourceARN(%q) accepted", bad)
		}
	}
}

func TestMarkers(t *testing.T) {
	for _, i := range []int{0, 1, 50, 99_999} {
		if got, ok := decodeMarker(encodeMarker(i)); !ok || got != i {
			t.Errorf("marker %d round-tripped to %d, %v", i, got, ok)
		}
	}
	for _, bad := range []string{"", "50", "bHcxOi0x", "!!"} {
		if _, ok := decodeMarker(bad); ok {
			t.Errorf("decodeMarker(%q) accepted", bad)
		}
	}
}

func FuzzParseSeed(f *testing.F) {
	for _, name := range []string{"testdata/estate.json", "testdata/seed_example.json"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"accounts":[{"id":"111122223333","regions":{"us-east-1":{"functions":[{"name":"a","versions":[{"version":1}],"aliases":[{"name":"p","version":"1"}]}]}}}]}`))
	f.Add([]byte(`{"accounts":[{"id":"111122223333","polcy":1}]}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		seed, err := ParseSeed(data)
		if err != nil {
			if seed != nil {
				t.Fatal("a seed and an error")
			}
			if !strings.HasPrefix(err.Error(), "seed: ") {
				t.Fatalf("error without context: %v", err)
			}
			return
		}
		// Whatever parses must serve.
		if _, err := New(seed, Options{}); err != nil {
			t.Fatalf("ParseSeed accepted what New refuses: %v", err)
		}
		// And survive a round trip through encoding/json.
		again, err := json.Marshal(seed)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseSeed(again); err != nil {
			t.Fatalf("re-encoded seed does not parse: %v\n%s", err, again)
		}
	})
}

func FuzzParseFunctionRef(f *testing.F) {
	for _, s := range []string{"intake", "intake:prod", "111122223333:function:intake:7",
		"arn:aws:lambda:us-east-1:111122223333:function:intake:$LATEST", "arn:aws:lambda:us-east-1:111122223333:layer:l:3", "a:b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := parseFunctionRef(s)
		if err != nil {
			return
		}
		if !regexp.MustCompile(`^[a-zA-Z0-9._-]{1,64}$`).MatchString(ref.name) {
			t.Fatalf("%q parsed to invalid name %q", s, ref.name)
		}
		if ref.account != "" && !reAccountID.MatchString(ref.account) {
			t.Fatalf("%q parsed to invalid account %q", s, ref.account)
		}
		// Rebuilding the reference from its parts parses to the same parts.
		rebuilt := ""
		if ref.partition != "" {
			rebuilt = "arn:" + ref.partition + ":lambda:"
		}
		if ref.region != "" {
			rebuilt += ref.region + ":"
		}
		if ref.account != "" {
			rebuilt += ref.account + ":function:"
		}
		rebuilt += ref.name
		if ref.qualifier != "" {
			rebuilt += ":" + ref.qualifier
		}
		again, err := parseFunctionRef(rebuilt)
		if err != nil || again != ref {
			t.Fatalf("%q -> %+v -> %q -> %+v, %v", s, ref, rebuilt, again, err)
		}
	})
}
