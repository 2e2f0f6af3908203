package alert

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Namespace is the XML namespace of CAP 1.2.
const Namespace = "urn:oasis:names:tc:emergency:cap:1.2"

// Alert is a CAP 1.2 <alert>. Fields follow the schema's element order, which is the order
// they are written in. Optional elements are left out when empty.
type Alert struct {
	XMLName    xml.Name `xml:"urn:oasis:names:tc:emergency:cap:1.2 alert" json:"-"`
	Identifier string   `xml:"identifier" json:"identifier"`
	Sender     string   `xml:"sender" json:"sender"`
	Sent       Time     `xml:"sent" json:"sent"`
	Status     Status   `xml:"status" json:"status"`
	MsgType    MsgType  `xml:"msgType" json:"msgType"`
	Source     string   `xml:"source,omitempty" json:"source,omitempty"`
	Scope      Scope    `xml:"scope" json:"scope"`
	// Restriction is required when Scope is Restricted.
	Restriction string `xml:"restriction,omitempty" json:"restriction,omitempty"`
	// Addresses is a group listing (space-separated, an item with spaces in double quotes);
	// required when Scope is Private. See [Alert.Recipients].
	Addresses string   `xml:"addresses,omitempty" json:"addresses,omitempty"`
	Code      []string `xml:"code,omitempty" json:"code,omitempty"`
	Note      string   `xml:"note,omitempty" json:"note,omitempty"`
	// References lists earlier alerts as space-separated "sender,identifier,sent" triples.
	// See [ParseReferences].
	References string `xml:"references,omitempty" json:"references,omitempty"`
	// Incidents is a group listing of the incidents the alert is about.
	Incidents string `xml:"incidents,omitempty" json:"incidents,omitempty"`
	Info      []Info `xml:"info,omitempty" json:"info,omitempty"`
}

// Info is a CAP <info> block: the event, its urgency, severity and certainty, texts and areas.
type Info struct {
	Language     string       `xml:"language,omitempty" json:"language,omitempty"`
	Category     []string     `xml:"category" json:"category"`
	Event        string       `xml:"event" json:"event"`
	ResponseType []string     `xml:"responseType,omitempty" json:"responseType,omitempty"`
	Urgency      string       `xml:"urgency" json:"urgency"`
	Severity     string       `xml:"severity" json:"severity"`
	Certainty    string       `xml:"certainty" json:"certainty"`
	Audience     string       `xml:"audience,omitempty" json:"audience,omitempty"`
	EventCode    []NamedValue `xml:"eventCode,omitempty" json:"eventCode,omitempty"`
	Effective    *Time        `xml:"effective,omitempty" json:"effective,omitempty"`
	Onset        *Time        `xml:"onset,omitempty" json:"onset,omitempty"`
	Expires      *Time        `xml:"expires,omitempty" json:"expires,omitempty"`
	SenderName   string       `xml:"senderName,omitempty" json:"senderName,omitempty"`
	Headline     string       `xml:"headline,omitempty" json:"headline,omitempty"`
	Description  string       `xml:"description,omitempty" json:"description,omitempty"`
	Instruction  string       `xml:"instruction,omitempty" json:"instruction,omitempty"`
	Web          string       `xml:"web,omitempty" json:"web,omitempty"`
	Contact      string       `xml:"contact,omitempty" json:"contact,omitempty"`
	Parameter    []NamedValue `xml:"parameter,omitempty" json:"parameter,omitempty"`
	Resource     []Resource   `xml:"resource,omitempty" json:"resource,omitempty"`
	Area         []InfoArea   `xml:"area,omitempty" json:"area,omitempty"`
}

// NamedValue is the valueName/value pair of CAP's eventCode, parameter and geocode.
type NamedValue struct {
	ValueName string `xml:"valueName" json:"valueName"`
	Value     string `xml:"value" json:"value"`
}

// Resource is a CAP <resource>: a file that goes with the info.
type Resource struct {
	ResourceDesc string `xml:"resourceDesc" json:"resourceDesc"`
	MimeType     string `xml:"mimeType" json:"mimeType"`
	Size         *int64 `xml:"size,omitempty" json:"size,omitempty"`
	URI          string `xml:"uri,omitempty" json:"uri,omitempty"`
	DerefURI     string `xml:"derefUri,omitempty" json:"derefUri,omitempty"`
	Digest       string `xml:"digest,omitempty" json:"digest,omitempty"`
}

// InfoArea is a CAP <area>. (The input of [FromFinding] is [Area].)
type InfoArea struct {
	AreaDesc string `xml:"areaDesc" json:"areaDesc"`
	// Polygon holds closed rings "lat,lon lat,lon …" of at least four points.
	Polygon []string `xml:"polygon,omitempty" json:"polygon,omitempty"`
	// Circle holds circles "lat,lon radius_km".
	Circle  []string     `xml:"circle,omitempty" json:"circle,omitempty"`
	Geocode []NamedValue `xml:"geocode,omitempty" json:"geocode,omitempty"`
	// Altitude and Ceiling are decimal numbers of feet, kept as written.
	Altitude string `xml:"altitude,omitempty" json:"altitude,omitempty"`
	Ceiling  string `xml:"ceiling,omitempty" json:"ceiling,omitempty"`
}

// Status is the CAP <status> of an alert.
type Status string

// The CAP statuses.
const (
	StatusActual   Status = "Actual"
	StatusExercise Status = "Exercise"
	StatusSystem   Status = "System"
	StatusTest     Status = "Test"
	StatusDraft    Status = "Draft"
)

// MsgType is the CAP <msgType> of an alert.
type MsgType string

// The CAP message types. FromFinding makes the first three.
const (
	MsgAlert  MsgType = "Alert"
	MsgUpdate MsgType = "Update"
	MsgCancel MsgType = "Cancel"
	MsgAck    MsgType = "Ack"
	MsgError  MsgType = "Error"
)

// Scope is the CAP <scope> of an alert.
type Scope string

// The CAP scopes.
const (
	ScopePublic     Scope = "Public"
	ScopeRestricted Scope = "Restricted"
	ScopePrivate    Scope = "Private"
)

// Reference names an earlier alert, as CAP's <references> does.
type Reference struct {
	Sender     string
	Identifier string
	// Sent is written with its own offset: keep the location the referenced alert used
	// (store [Reference.String] and read it back with [ParseReferences]).
	Sent time.Time
}

// Ref returns the reference other alerts use to point at a.
func (a *Alert) Ref() Reference {
	return Reference{Sender: a.Sender, Identifier: a.Identifier, Sent: a.Sent.Time}
}

// String returns the triple "sender,identifier,sent".
func (r Reference) String() string {
	return r.Sender + "," + r.Identifier + "," + Time{r.Sent}.String()
}

// ParseReferences reads a CAP <references> value: whitespace-separated "sender,identifier,sent"
// triples.
func ParseReferences(s string) ([]Reference, error) {
	var refs []Reference
	for _, triple := range strings.Fields(s) {
		parts := strings.Split(triple, ",")
		if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
			return nil, fmt.Errorf("reference %q: want sender,identifier,sent", clip(triple))
		}
		var t Time
		if err := t.UnmarshalText([]byte(parts[2])); err != nil {
			return nil, fmt.Errorf("reference %q: %w", clip(triple), err)
		}
		refs = append(refs, Reference{Sender: parts[0], Identifier: parts[1], Sent: t.Time})
	}
	return refs, nil
}

// Recipients splits a.Addresses into its items.
func (a *Alert) Recipients() ([]string, error) {
	return splitGroup(a.Addresses)
}

// Time is a CAP date and time: whole seconds and an explicit offset, as in
// "2026-12-05T08:00:00+00:00" (never "Z", never fractions of a second).
type Time struct{ time.Time }

// capLayout is the CAP 1.2 dateTime form.
const capLayout = "2006-01-02T15:04:05-07:00"

// errTime explains the only form CAP accepts.
var errTime = errors.New(`want a CAP time like "2026-12-05T08:00:00+00:00"`)

// String returns t in the CAP form.
func (t Time) String() string {
	b, err := t.MarshalText()
	if err != nil {
		return "!" + err.Error()
	}
	return string(b)
}

// MarshalText writes t in the CAP form, without its fraction of a second. An offset that is
// not a whole number of minutes, or beyond ±14:00, is written as UTC. The zero time and years
// outside 1–9999 are errors.
func (t Time) MarshalText() ([]byte, error) {
	if t.IsZero() {
		return nil, errors.New("zero time")
	}
	tt := t.Time
	if _, off := tt.Zone(); off%60 != 0 || off > 14*3600 || off < -14*3600 {
		tt = tt.UTC()
	}
	if y := tt.Year(); y < 1 || y > 9999 {
		return nil, fmt.Errorf("year %d is outside 1–9999", y)
	}
	return []byte(tt.Format(capLayout)), nil
}

// AppendText appends the CAP form of t to b (it overrides the method time.Time would lend).
func (t Time) AppendText(b []byte) ([]byte, error) {
	s, err := t.MarshalText()
	return append(b, s...), err
}

// UnmarshalText reads the CAP form; surrounding white space is allowed, as for xs:dateTime.
func (t *Time) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if !capTimeShape(s) {
		return fmt.Errorf("time %q: %w", clip(s), errTime)
	}
	v, err := time.Parse(capLayout, s)
	if err != nil {
		return fmt.Errorf("time %q: %w", clip(s), err)
	}
	if _, off := v.Zone(); off > 14*3600 || off < -14*3600 {
		return fmt.Errorf("time %q: offset beyond ±14:00", clip(s))
	}
	if v.Year() < 1 {
		return fmt.Errorf("time %q: year 0000", clip(s))
	}
	t.Time = v
	return nil
}

// MarshalJSON writes t as a JSON string in the CAP form.
func (t Time) MarshalJSON() ([]byte, error) {
	b, err := t.MarshalText()
	if err != nil {
		return nil, err
	}
	return json.Marshal(string(b))
}

// UnmarshalJSON reads a JSON string in the CAP form.
func (t *Time) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	return t.UnmarshalText([]byte(s))
}

// capTimeShape reports whether s matches \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d, the
// schema's pattern (time.Parse alone would accept fractions of a second).
func capTimeShape(s string) bool {
	const shape = "dddd-dd-ddTdd:dd:dd?dd:dd"
	if len(s) != len(shape) {
		return false
	}
	for i := range len(shape) {
		c := s[i]
		switch shape[i] {
		case 'd':
			if c < '0' || c > '9' {
				return false
			}
		case '?':
			if c != '+' && c != '-' {
				return false
			}
		default:
			if c != shape[i] {
				return false
			}
		}
	}
	return true
}

// clip shortens bad input quoted in an error.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && !utf8RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// joinGroup writes a CAP group listing: items separated by spaces, an item containing white
// space in double quotes. Items must not contain double quotes (checked by callers).
func joinGroup(items []string) string {
	var b strings.Builder
	for i, it := range items {
		if i > 0 {
			b.WriteByte(' ')
		}
		if strings.ContainsAny(it, " \t\r\n") {
			b.WriteString(`"` + it + `"`)
		} else {
			b.WriteString(it)
		}
	}
	return b.String()
}

// splitGroup reads a CAP group listing.
func splitGroup(s string) ([]string, error) {
	var items []string
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '"':
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				return nil, fmt.Errorf("group listing %q: unterminated quote", clip(s))
			}
			items = append(items, s[i+1:i+1+j])
			i += j + 2
		default:
			j := strings.IndexAny(s[i:], " \t\r\n\"")
			if j < 0 {
				j = len(s) - i
			}
			items = append(items, s[i:i+j])
			i += j
		}
	}
	return items, nil
}
