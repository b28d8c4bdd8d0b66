package cadir

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// decodeConfig decodes config.json strictly: a key the Config does not
// have, at any depth, is an error naming it and where it is, because
// encoding/json would drop it and a typo ("bin_range", "form ",
// "requried") would give a CA that quietly asks nothing or checks less.
// Keys must match exactly: encoding/json's case-insensitive matching
// would otherwise accept "Form" and then "form" beside it would win
// silently.
func decodeConfig(b []byte, cfg *Config) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return jsonError(b, err)
	}
	if err := unknownKeys(v, reflect.TypeFor[Config](), ""); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields() // a backstop: unknownKeys has seen every key
	if err := dec.Decode(cfg); err != nil {
		return jsonError(b, err)
	}
	return nil
}

// jsonError adds the line of a syntax or type error to err.
func jsonError(b []byte, err error) error {
	var off int64 = -1
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		off = se.Offset
	} else if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		off = te.Offset
		if te.Field != "" {
			return fmt.Errorf("line %d: %s: %s where %s is wanted", line(b, off), te.Field, te.Value, te.Type)
		}
	}
	if off < 0 {
		return err
	}
	return fmt.Errorf("line %d: %w", line(b, off), err)
}

func line(b []byte, off int64) int {
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	return 1 + bytes.Count(b[:off], []byte{'\n'})
}

// unknownKeys walks v, config.json decoded generically, beside t, the Go
// type encoding/json would fill from it, and returns an error for the
// first key (in sorted order, so the same one every time) that t has no
// field for. at is v's path, as "bin_ranges[0].form.fields[1]". Values of
// the wrong JSON type are left to encoding/json to report.
func unknownKeys(v any, t reflect.Type, at string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		fields := jsonFields(t)
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ft, ok := fields[k]
			if !ok {
				return unknownKeyError(at, k, fields)
			}
			if err := unknownKeys(obj[k], ft, join(at, k)); err != nil {
				return err
			}
		}
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			return nil
		}
		for i, e := range arr {
			if err := unknownKeys(e, t.Elem(), fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if err := unknownKeys(obj[k], t.Elem(), fmt.Sprintf("%s[%q]", at, k)); err != nil {
				return err
			}
		}
	}
	return nil
}

// jsonFields maps the JSON keys of struct type t to their fields' types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	m := map[string]reflect.Type{}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		m[name] = f.Type
	}
	return m
}

func join(at, key string) string {
	if at == "" {
		return key
	}
	return at + "." + key
}

// unknownKeyError names key, at at, and the known key it was most
// likely meant to be.
func unknownKeyError(at, key string, fields map[string]reflect.Type) error {
	where := "top level"
	if at != "" {
		where = at
	}
	// Suggest a key within two edits, and not so short that any key is.
	best, bestDist := "", 3
	for name := range fields {
		d := editDistance(strings.ToLower(strings.TrimSpace(key)), name)
		if 2*d > len(name) {
			continue
		}
		if d < bestDist || d == bestDist && name < best {
			best, bestDist = name, d
		}
	}
	if best != "" {
		return fmt.Errorf("%s: unknown key %q (did you mean %q?)", where, key, best)
	}
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, fmt.Sprintf("%q", name))
	}
	sort.Strings(names)
	return fmt.Errorf("%s: unknown key %q (known here: %s)", where, key, strings.Join(names, ", "))
}

// editDistance is the Levenshtein distance between a and b, bytewise.
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
