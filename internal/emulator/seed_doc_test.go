package emulator_test

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/lambdawarden/lambdawarden/internal/emulator"
)

const seedDoc = "../../docs/emulator-seed.md"

// The seed example in docs/emulator-seed.md is a valid seed that serves
// what it shows.
func TestDocumentedSeedExampleParses(t *testing.T) {
	data, err := os.ReadFile(seedDoc)
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```json\n(.*?)```").FindAllStringSubmatch(string(data), -1)
	seeds := 0
	for _, b := range blocks {
		if !strings.Contains(b[1], `"accounts"`) {
			continue
		}
		seeds++
		seed, err := emulator.ParseSeed([]byte(b[1]))
		if err != nil {
			t.Fatalf("%s: the example seed does not parse: %v", seedDoc, err)
		}
		if _, err := emulator.New(seed, emulator.Options{}); err != nil {
			t.Fatalf("%s: the example seed does not serve: %v", seedDoc, err)
		}
		fn := seed.Accounts[0].Regions["us-east-1"].Functions[0]
		if fn.Name != "intake" || len(fn.Aliases) != 1 || len(seed.Accounts[0].Regions["us-east-1"].Layers) != 1 {
			t.Errorf("the example lost its function, alias or layer: %+v", fn)
		}
	}
	if seeds == 0 {
		t.Fatalf("%s has no example seed", seedDoc)
	}
}

// Every field of the seed format is documented: a field added to the Go
// types without a line in docs/emulator-seed.md fails here.
func TestSeedDocumentNamesEveryField(t *testing.T) {
	data, err := os.ReadFile(seedDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	seen := map[reflect.Type]bool{}
	fields := 0
	var walk func(reflect.Type, string)
	walk = func(ty reflect.Type, path string) {
		for ty.Kind() == reflect.Pointer || ty.Kind() == reflect.Slice || ty.Kind() == reflect.Map {
			ty = ty.Elem()
		}
		if ty.Kind() != reflect.Struct || seen[ty] {
			return
		}
		seen[ty] = true
		for i := range ty.NumField() {
			f := ty.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			if !strings.Contains(doc, "`"+name+"`") && !strings.Contains(doc, "."+name+"`") && !strings.Contains(doc, `"`+name+`"`) {
				t.Errorf("%s%s (%s.%s) is not documented in %s", path, name, ty.Name(), f.Name, seedDoc)
			}
			fields++
			walk(f.Type, path+name+".")
		}
	}
	walk(reflect.TypeFor[emulator.Seed](), "")
	if fields < 40 {
		t.Fatalf("walked only %d seed fields: the walk is broken", fields)
	}
	for _, v := range emulator.PolicyErrors() {
		if !strings.Contains(doc, "`"+v+"`") {
			t.Errorf("policy_error %q is not documented", v)
		}
	}
}
