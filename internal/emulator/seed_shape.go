package emulator

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

var (
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	rawMessageType  = reflect.TypeFor[json.RawMessage]()
)

// checkShape walks a generic JSON value against the Go type it will be
// decoded into and reports the first unknown field or type mismatch with its
// path. encoding/json's own errors name neither the path nor, for unknown
// fields, the object they occur in.
func checkShape(path string, v any, t reflect.Type) error {
	if t == rawMessageType {
		return nil
	}
	if v == nil {
		return nil // null is allowed everywhere and leaves the zero value
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		switch v.(type) {
		case string, json.Number:
			return nil
		}
		return fmt.Errorf("%s: expected a string or number, got %s", where(path), jsonKind(v))
	}
	switch t.Kind() {
	case reflect.Pointer:
		return checkShape(path, v, t.Elem())
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: expected an object, got %s", where(path), jsonKind(v))
		}
		fields := map[string]reflect.StructField{}
		var names []string
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			fields[name] = f
			names = append(names, name)
		}
		for _, k := range sortedKeys(obj) {
			f, ok := fields[k]
			if !ok {
				hint := ""
				if n := closest(k, names); n != "" {
					hint = fmt.Sprintf(" (did you mean %q?)", n)
				}
				return fmt.Errorf("%s: unknown field%s; known fields: %s", join(path, k), hint, strings.Join(names, ", "))
			}
			if err := checkShape(join(path, k), obj[k], f.Type); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: expected an array, got %s", where(path), jsonKind(v))
		}
		for i, e := range arr {
			if err := checkShape(fmt.Sprintf("%s[%d]", path, i), e, t.Elem()); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: expected an object, got %s", where(path), jsonKind(v))
		}
		for _, k := range sortedKeys(obj) {
			if err := checkShape(join(path, k), obj[k], t.Elem()); err != nil {
				return err
			}
		}
		return nil
	case reflect.String:
		if _, ok := v.(string); !ok {
			return fmt.Errorf("%s: expected a string, got %s", where(path), jsonKind(v))
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s: expected true or false, got %s", where(path), jsonKind(v))
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		n, ok := v.(json.Number)
		if !ok {
			return fmt.Errorf("%s: expected a whole number, got %s", where(path), jsonKind(v))
		}
		if _, err := strconv.ParseInt(n.String(), 10, 64); err != nil {
			return fmt.Errorf("%s: expected a whole number, got %s", where(path), n)
		}
	}
	return nil
}

// closest suggests the known name a misspelt key most likely meant: one
// that differs only in case or underscores, or within two edits.
func closest(key string, names []string) string {
	norm := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, "_", "")) }
	best, bestDist := "", 3
	for _, n := range names {
		if norm(n) == norm(key) {
			return n
		}
		if d := editDistance(norm(n), norm(key)); d < bestDist {
			best, bestDist = n, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var simpleKey = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$-]*$`)

func join(path, key string) string {
	if !simpleKey.MatchString(key) {
		return fmt.Sprintf("%s[%q]", path, key)
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func where(path string) string {
	if path == "" {
		return "top level"
	}
	return path
}

func jsonKind(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("string %q", x)
	case bool:
		return fmt.Sprintf("%v", x)
	case json.Number:
		return "number " + x.String()
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
