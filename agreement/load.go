package agreement

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// LoadFile reads, decodes and validates the agreement at path. Geometry
// files are read relative to its directory. An invalid agreement returns
// an [ErrorList]; an unreadable one the error of [os.ReadFile].
func LoadFile(path string) (*Agreement, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading agreement: %w", err)
	}
	return Load(path, data, os.ReadFile)
}

// Load decodes and validates an agreement. name is the file name used in
// errors; a geometry_file reference is joined to the directory of name and
// read with readFile, which may be nil when the agreement has no geometry
// files. When the agreement is invalid, the error is an [ErrorList] holding
// every problem found, sorted by position.
func Load(name string, data []byte, readFile func(string) ([]byte, error)) (*Agreement, error) {
	c := &errs{}
	d := &decoder{file: name, c: c, readFile: readFile}
	var a *Agreement
	if root := d.parse(data); root != nil {
		a = d.agreement(root)
	}
	if a != nil {
		c.list = append(c.list, a.validate()...)
	}
	if len(c.list) > 0 {
		return nil, sortErrors(c.list, name)
	}
	return a, nil
}

// decoder turns the YAML (or GeoJSON) syntax tree of one file into the
// model, reporting every problem it meets.
type decoder struct {
	file     string
	c        *errs
	readFile func(string) ([]byte, error)
}

func (d *decoder) errorf(n ast.Node, hint, format string, args ...any) {
	d.c.add(d.file, posOf(n), hint, format, args...)
}

func (d *decoder) errorAt(p Pos, hint, format string, args ...any) {
	d.c.add(d.file, p, hint, format, args...)
}

// parse returns the body of the only document in data, or nil after
// reporting why there is none.
func (d *decoder) parse(data []byte) (body ast.Node) {
	f, err := safeParse(data)
	if err != nil {
		var ye yaml.Error
		p := Pos{Line: 1, Col: 1}
		msg := err.Error()
		if errors.As(err, &ye) {
			msg = ye.GetMessage()
			if tk := ye.GetToken(); tk != nil && tk.Position != nil {
				p = Pos{tk.Position.Line, tk.Position.Column}
			}
		}
		d.errorAt(p, "", "syntax error: %s", msg)
		return nil
	}
	var docs []*ast.DocumentNode
	for _, doc := range f.Docs {
		if doc != nil && doc.Body != nil {
			docs = append(docs, doc)
		}
	}
	switch {
	case len(docs) == 0:
		d.errorAt(Pos{1, 1}, "", "empty file")
		return nil
	case len(docs) > 1:
		d.errorf(docs[1].Body, "", "more than one YAML document")
	}
	return docs[0].Body
}

// safeParse parses YAML, turning a panic of the parser into an error so
// that no input can crash a loader.
func safeParse(data []byte) (f *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("unreadable YAML (%v)", r)
		}
	}()
	return parser.ParseBytes(data, 0)
}

// posOf returns where a node starts; for a block mapping, its first key.
func posOf(n ast.Node) Pos {
	switch v := n.(type) {
	case nil:
		return Pos{}
	case *ast.MappingNode:
		if !v.IsFlowStyle && len(v.Values) > 0 {
			return posOf(v.Values[0].Key)
		}
	case *ast.MappingValueNode:
		return posOf(v.Key)
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return Pos{}
	}
	return Pos{tk.Position.Line, tk.Position.Column}
}

// describe names a node's type and, for a scalar, its value, for messages
// such as "want a number, got string \"ten\"".
func describe(n ast.Node) string {
	switch v := n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a sequence"
	case *ast.NullNode:
		return "null"
	case *ast.StringNode:
		return fmt.Sprintf("string %q", v.Value)
	case *ast.LiteralNode:
		return "a block string"
	case *ast.BoolNode:
		return fmt.Sprintf("boolean %v", v.Value)
	case *ast.IntegerNode:
		return "integer " + v.GetToken().Value
	case *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "number " + n.GetToken().Value
	}
	return n.Type().String()
}

// value strips anchors; it reports aliases and tags, which are not
// supported, and returns nil for them.
func (d *decoder) value(n ast.Node, ctx string) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.AliasNode:
			d.errorf(v, "write the value out in full", "%s: YAML aliases are not supported", ctx)
			return nil
		case *ast.TagNode:
			d.errorf(v, "quote a string instead", "%s: YAML tag %q is not supported", ctx, v.Start.Value)
			return nil
		default:
			return n
		}
	}
}

func join(ctx, key string) string {
	if ctx == "" {
		return key
	}
	return ctx + ": " + key
}

// object is a YAML mapping being decoded into a model element.
type object struct {
	d      *decoder
	ctx    string // context of messages, e.g. `zone "dmz"`
	pos    Pos
	vals   map[string]ast.Node
	fields fieldPos // shared with the element; keys prefixed for nested objects
	bad    fieldSet // shared like fields
	prefix string
	typos  map[string]bool // known keys an unknown key was taken for
}

// object opens a mapping. known lists the keys allowed, each reported at
// its position when unknown; nil allows any key (GeoJSON foreign members).
// It returns nil, after reporting, when n is not a mapping.
func (d *decoder) object(n ast.Node, ctx string, known []string) *object {
	if n = d.value(n, ctx); n == nil {
		return nil
	}
	var mvs []*ast.MappingValueNode
	switch m := n.(type) {
	case *ast.MappingNode:
		mvs = m.Values
	case *ast.MappingValueNode:
		mvs = []*ast.MappingValueNode{m}
	default:
		d.errorf(n, "", "%s: want a mapping, got %s", orTop(ctx), describe(n))
		return nil
	}
	o := &object{d: d, ctx: ctx, pos: posOf(n), vals: map[string]ast.Node{}, fields: fieldPos{}, bad: fieldSet{}}
	for _, mv := range mvs {
		if mv.Key != nil && mv.Key.IsMergeKey() {
			d.errorf(mv.Key, "write the keys out in full", "%s: YAML merge keys are not supported", orTop(ctx))
			continue
		}
		k, ok := d.value(mv.Key, ctx).(*ast.StringNode)
		if !ok {
			if mv.Key != nil {
				d.errorf(mv.Key, "", "%s: key %s is not a string", orTop(ctx), describe(mv.Key))
			}
			continue
		}
		if known != nil && !slices.Contains(known, k.Value) {
			hint := suggest(k.Value, known)
			if hint != "" {
				if o.typos == nil {
					o.typos = map[string]bool{}
				}
				o.typos[closest(k.Value, known)] = true
			}
			d.errorf(k, hint, "%s: unknown key %q", orTop(ctx), k.Value)
			continue
		}
		o.vals[k.Value] = mv.Value
		o.fields[k.Value] = posOf(mv.Value)
	}
	return o
}

func orTop(ctx string) string {
	if ctx == "" {
		return "agreement"
	}
	return ctx
}

// element opens the i-th mapping of a list, naming it label "id" in
// messages when it has a string id, and list[i] otherwise.
func (d *decoder) element(n ast.Node, list string, i int, label string, known []string) *object {
	ctx := fmt.Sprintf("%s[%d]", list, i)
	if m, ok := n.(*ast.MappingNode); ok {
		for _, mv := range m.Values {
			if k, ok := mv.Key.(*ast.StringNode); ok && k.Value == "id" {
				if v, ok := mv.Value.(*ast.StringNode); ok {
					ctx = fmt.Sprintf("%s %q", label, v.Value)
				}
			}
		}
	}
	return d.object(n, ctx, known)
}

// obj opens the nested mapping at key; its fields are recorded in the
// parent's map as "key.field".
func (o *object) obj(key string, known []string) *object {
	n := o.raw(key)
	if n == nil {
		return nil
	}
	c := o.d.object(n, join(o.ctx, key), known)
	if c == nil {
		o.markBad(key)
		return nil
	}
	c.prefix = o.prefix + key + "."
	for k, p := range c.fields {
		o.fields[c.prefix+k] = p
	}
	c.fields, c.bad = o.fields, o.bad
	return c
}

// track marks key bad if decoding it, between the call and the call of the
// function returned, reports errors: defer o.track(key)().
func (o *object) track(key string) func() {
	if o == nil {
		return func() {}
	}
	m := o.d.mark()
	return func() {
		if o.d.since(m) {
			o.markBad(key)
		}
	}
}

// markBad marks key and the keys enclosing it.
func (o *object) markBad(key string) {
	k := o.prefix + key
	for {
		o.bad[k] = true
		i := strings.LastIndexByte(k, '.')
		if i < 0 {
			return
		}
		k = k[:i]
	}
}

// ownBad returns the bad keys of this object without the prefix of the
// enclosing element.
func (o *object) ownBad() fieldSet {
	f := fieldSet{}
	for k := range o.bad {
		if rest, ok := strings.CutPrefix(k, o.prefix); ok {
			f[rest] = true
		}
	}
	return f
}

func (d *decoder) mark() int { return len(d.c.list) }

// since reports whether errors were reported after mark m.
func (d *decoder) since(m int) bool { return len(d.c.list) > m }

// own returns the field positions of this object and its nested ones,
// without the prefix of the enclosing element.
func (o *object) own() fieldPos {
	f := fieldPos{}
	for k, p := range o.fields {
		if rest, ok := strings.CutPrefix(k, o.prefix); ok {
			f[rest] = p
		}
	}
	return f
}

func (o *object) raw(key string) ast.Node {
	if o == nil {
		return nil
	}
	return o.vals[key]
}

// get returns the value at key, nil when absent or unusable.
func (o *object) get(key string) ast.Node {
	n := o.raw(key)
	if n == nil {
		return nil
	}
	return o.d.value(n, o.at(key))
}

func (o *object) has(key string) bool { return o.raw(key) != nil }

// at names key in messages.
func (o *object) at(key string) string { return join(o.ctx, key) }

func (o *object) errorf(key, hint, format string, args ...any) {
	o.d.errorf(o.vals[key], hint, "%s: "+format, append([]any{o.at(key)}, args...)...)
}

// require reports the keys that are missing, at the mapping.
func (o *object) require(keys ...string) {
	if o == nil {
		return
	}
	for _, k := range keys {
		if !o.has(k) {
			if !o.typos[k] { // already reported as a misspelt key
				o.d.errorAt(o.pos, "", "%s: missing key %q", orTop(o.ctx), k)
			}
			o.markBad(k)
		}
	}
}

func (o *object) str(key string) string {
	s, _ := o.strOK(key)
	return s
}

func (o *object) strOK(key string) (string, bool) {
	defer o.track(key)()
	switch v := o.get(key).(type) {
	case nil:
		return "", false
	case *ast.StringNode:
		return v.Value, true
	case *ast.LiteralNode:
		return v.Value.Value, true
	default:
		hint := ""
		if _, ok := v.(ast.ScalarNode); ok {
			hint = "quote it"
		}
		o.errorf(key, hint, "want a string, got %s", describe(v))
		return "", false
	}
}

func (o *object) int(key string) (int, bool) {
	defer o.track(key)()
	switch v := o.get(key).(type) {
	case nil:
		return 0, false
	case *ast.IntegerNode:
		var n int64
		switch x := v.Value.(type) {
		case int64:
			n = x
		case uint64:
			n = math.MaxInt64
			if x <= math.MaxInt64 {
				n = int64(x)
			}
		}
		if n < math.MinInt32 || n > math.MaxInt32 {
			o.errorf(key, "", "integer %s out of range", v.GetToken().Value)
			return 0, false
		}
		return int(n), true
	default:
		o.errorf(key, "", "want an integer, got %s", describe(v))
		return 0, false
	}
}

func (o *object) float(key string) (float64, bool) {
	defer o.track(key)()
	return o.d.number(o.get(key), o.at(key))
}

// number decodes a finite number.
func (d *decoder) number(n ast.Node, ctx string) (float64, bool) {
	var f float64
	switch v := n.(type) {
	case nil:
		return 0, false
	case *ast.IntegerNode:
		switch x := v.Value.(type) {
		case int64:
			f = float64(x)
		case uint64:
			f = float64(x)
		}
	case *ast.FloatNode:
		f = v.Value
	case *ast.InfinityNode, *ast.NanNode:
		f = math.NaN()
	default:
		d.errorf(n, "", "%s: want a number, got %s", ctx, describe(n))
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		d.errorf(n, "", "%s: %s is not a finite number", ctx, n.GetToken().Value)
		return 0, false
	}
	return f, true
}

func (o *object) bool(key string) bool {
	defer o.track(key)()
	switch v := o.get(key).(type) {
	case nil:
		return false
	case *ast.BoolNode:
		return v.Value
	default:
		o.errorf(key, "", "want true or false, got %s", describe(v))
		return false
	}
}

const durationHint = `use a Go duration with a d unit for days, e.g. "72h", "30m" or "1d12h"`

func (o *object) duration(key string) time.Duration {
	defer o.track(key)()
	n := o.get(key)
	if n == nil {
		return 0
	}
	s, ok := n.(*ast.StringNode)
	if !ok {
		o.errorf(key, durationHint, "want a duration, got %s", describe(n))
		return 0
	}
	d, err := ParseDuration(s.Value)
	if err != nil {
		o.errorf(key, durationHint, "%v", err)
	}
	return d
}

const timeHint = `use RFC 3339, e.g. "2026-12-01T00:00:00Z"`

func (o *object) timestamp(key string) time.Time {
	defer o.track(key)()
	s, ok := o.strOK(key)
	if !ok {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		o.errorf(key, timeHint, "invalid timestamp %q", s)
	}
	return t
}

// when decodes a phase id or a timestamp.
func (o *object) when(key string) (time.Time, string) {
	s, ok := o.strOK(key)
	if !ok {
		return time.Time{}, ""
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, ""
	}
	return time.Time{}, s
}

func (o *object) list(key string) []ast.Node {
	defer o.track(key)()
	n := o.get(key)
	if n == nil {
		return nil
	}
	s, ok := n.(*ast.SequenceNode)
	if !ok {
		o.errorf(key, "", "want a sequence, got %s", describe(n))
		return nil
	}
	return s.Values
}

// strs decodes a list of strings, recording the position of each item as
// field "key[i]".
func (o *object) strs(key string) []string {
	defer o.track(key)()
	var out []string
	for i, n := range o.list(key) {
		ctx := fmt.Sprintf("%s[%d]", o.at(key), i)
		switch v := o.d.value(n, ctx).(type) {
		case nil:
		case *ast.StringNode:
			o.fields[fmt.Sprintf("%s%s[%d]", o.prefix, key, len(out))] = posOf(v)
			out = append(out, v.Value)
		default:
			o.d.errorf(v, "", "%s: want a string, got %s", ctx, describe(v))
		}
	}
	return out
}

// enum decodes one of names; what names the type in messages.
func (o *object) enum(key string, names []string, what string) int {
	defer o.track(key)()
	s, ok := o.strOK(key)
	if !ok {
		return 0
	}
	i := slices.Index(names, s)
	if i < 0 {
		hint := suggest(s, names)
		if hint == "" {
			hint = "one of " + strings.Join(names, ", ")
		}
		o.errorf(key, hint, "unknown %s %q", what, s)
		return 0
	}
	return i
}

// suggest proposes the closest of known to s, if close enough.
func suggest(s string, known []string) string {
	if best := closest(s, known); best != "" {
		return fmt.Sprintf("did you mean %q?", best)
	}
	return ""
}

// closest returns the one of known within two edits of s, or "".
func closest(s string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := editDistance(s, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and transpositions of neighbours cost one.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// geometryPath joins a geometry_file reference to the agreement's
// directory.
func geometryPath(agreement, ref string) string {
	return filepath.Join(filepath.Dir(agreement), filepath.FromSlash(ref))
}
