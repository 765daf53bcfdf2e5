package job

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

var jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()

// unknownFields names every key of doc (generic JSON) that type t has no field for, with its
// path, so a typo is reported with the spec's other problems instead of alone.
func unknownFields(doc any, t reflect.Type, path *field.Path) field.ErrorList {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshaler) {
		return nil // quantities, int-or-strings, times, raw JSON: their own syntax
	}
	var errs field.ErrorList
	switch t.Kind() {
	case reflect.Struct:
		m, ok := doc.(map[string]any)
		if !ok {
			return nil
		}
		fields := jsonFields(t)
		for _, k := range slices.Sorted(maps.Keys(m)) {
			ft, ok := fields[k]
			if !ok {
				errs = append(errs, Invalid(path.Child(k), "unknown field: the operator's SparkApplication v1beta2 has no %s here (misspelt?)", k))
				continue
			}
			errs = append(errs, unknownFields(m[k], ft, path.Child(k))...)
		}
	case reflect.Slice, reflect.Array:
		s, _ := doc.([]any)
		for i, e := range s {
			errs = append(errs, unknownFields(e, t.Elem(), path.Index(i))...)
		}
	case reflect.Map:
		m, _ := doc.(map[string]any)
		for _, k := range slices.Sorted(maps.Keys(m)) {
			errs = append(errs, unknownFields(m[k], t.Elem(), path.Key(k))...)
		}
	}
	return errs
}

// jsonFields maps the JSON names of a struct's fields, embedded and inline ones included, to
// their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if (f.Anonymous && name == "") || strings.Contains(opts, "inline") {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			maps.Copy(out, jsonFields(ft))
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}
