package engine

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/geo"
	"github.com/truce-mission/truce/ingest"
	"github.com/truce-mission/truce/ingest/feeds"
	"github.com/truce-mission/truce/ledger"
	"github.com/truce-mission/truce/zonecheck"
)

// Defaults of [Options].
const (
	// DefaultFuseDistanceM is how near, in metres, two observations of a related category
	// must be to fuse into one incident: about the spread of a company-sized position.
	DefaultFuseDistanceM = 5000.0
	// DefaultFuseWindow is how near in time two observations must be to fuse.
	DefaultFuseWindow = 2 * time.Hour
	// DefaultReviewDeadline is the analyst review deadline when the agreement sets none.
	DefaultReviewDeadline = 24 * time.Hour
)

// ErrOutOfOrder is returned by [Engine.Apply] for an index other than the next one.
var ErrOutOfOrder = errors.New("entry out of order")

// Options tune an engine; zero fields take the defaults.
type Options struct {
	FuseDistanceM  float64
	FuseWindow     time.Duration
	ReviewDeadline time.Duration // overrides the agreement's review obligation

	Dwell           time.Duration // [DefaultDwell]
	DarkGap         time.Duration // [DefaultDarkGap]
	TrackEventsKept int           // [DefaultTrackEventsKept]

	ActivityBucket     time.Duration // [DefaultActivityBucket]
	ActivityBuckets    int           // [DefaultActivityBuckets]
	ActivityMinHistory int           // [DefaultActivityMinHistory]
	ActivityFactor     float64       // [DefaultActivityFactor]
	ActivitySigmas     float64       // [DefaultActivitySigmas]
	ActivityMinCount   int           // [DefaultActivityMinCount]

	// FindingPrefix tells several logs' finding ids apart ([Engine.IncidentFinding]);
	// empty by default.
	FindingPrefix string
	// Sender is the CAP sender of the alerts; the default is "truce@" and the agreement id.
	Sender string
}

// Engine is the verification state machine. It is not safe for concurrent use: one
// goroutine applies the log in order.
type Engine struct {
	a     *agreement.Agreement
	zc    *zonecheck.Checker
	res   zonecheck.Result
	opts  Options
	next  int64                 // the index the next entry must have
	now   time.Time             // the log's time
	cells map[uint64]*cellRun   // the fusion grid, by cellRunKey
	track map[trackSlot][]int64 // incidents by track and fusion window

	incidents     []*incident // by id-1
	notifications []*notification
	notes         noteIndex                   // notifications by party and window (relevance.go)
	days          map[int64][]int64           // incidents by the days they span (relevance.go)
	roots         map[string]int32            // category families of the fusion grid (relevance.go)
	leads         map[[2]string]time.Duration // leadTime by party and category (relevance.go)
	ignored       []Ignored
	touched       []int64

	due deadlines // dark tracks and acknowledgements, by time

	tracks      map[string]*trackState
	trackKeys   []string // in order of first position
	trackEvents []TrackEvent
	trackSeq    int64
	trackCounts TrackCounts

	activity  map[string]*activity // by zone
	histStart int64                // the earliest bucket observed
	histSet   bool
	warnings  []*Warning
	warned    []Change // warnings raised by the entry being applied

	alerts     map[string]alertRef // CAP identifier -> finding version
	duties     []*obligation       // in order of creation
	open       map[string]*obligation
	owed       map[string]bool // every dutyKey of duties, open or not
	messages   map[string]*HotlineMessage
	hotlineLog []*HotlineMessage
	pre        []Change // escalations caused by the entry's time

	// ruleAt and ruleFirst number the agreement's rules for the tallies (numberRules).
	ruleAt    map[*agreement.Rule]int
	ruleFirst []int
	catAt     map[string]int32 // numberCategories
	catCovers []bool
	nearBuf   []*notification // scratch for weighNotes
}

// New returns an engine for a validated agreement, with the default options.
func New(a *agreement.Agreement) (*Engine, error) { return NewWithOptions(a, Options{}) }

// NewWithOptions returns an engine for a validated agreement.
func NewWithOptions(a *agreement.Agreement, opts Options) (*Engine, error) {
	zc, err := zonecheck.FromAgreement(a, nil)
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	if opts.FuseDistanceM <= 0 {
		opts.FuseDistanceM = DefaultFuseDistanceM
	}
	if opts.FuseWindow <= 0 {
		opts.FuseWindow = DefaultFuseWindow
	}
	if opts.ReviewDeadline <= 0 {
		opts.ReviewDeadline = a.Obligations.Review
	}
	if opts.ReviewDeadline <= 0 {
		opts.ReviewDeadline = DefaultReviewDeadline
	}
	setDefault(&opts.Dwell, DefaultDwell)
	setDefault(&opts.DarkGap, DefaultDarkGap)
	setDefault(&opts.TrackEventsKept, DefaultTrackEventsKept)
	setDefault(&opts.ActivityBucket, DefaultActivityBucket)
	setDefault(&opts.ActivityBuckets, DefaultActivityBuckets)
	setDefault(&opts.ActivityMinHistory, DefaultActivityMinHistory)
	setDefault(&opts.ActivityFactor, DefaultActivityFactor)
	setDefault(&opts.ActivitySigmas, DefaultActivitySigmas)
	setDefault(&opts.ActivityMinCount, DefaultActivityMinCount)
	if opts.Sender == "" {
		opts.Sender = "truce@" + a.ID
	}
	e := &Engine{a: a, zc: zc, opts: opts, cells: map[uint64]*cellRun{}, track: map[trackSlot][]int64{},
		tracks: map[string]*trackState{}, activity: map[string]*activity{}, alerts: map[string]alertRef{},
		open: map[string]*obligation{}, owed: map[string]bool{}, messages: map[string]*HotlineMessage{}}
	e.numberRules()
	e.numberCategories()
	return e, nil
}

// setDefault sets *v to def when it is not positive.
func setDefault[T int | float64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Agreement returns the engine's agreement.
func (e *Engine) Agreement() *agreement.Agreement { return e.a }

// Size returns the number of entries applied.
func (e *Engine) Size() int64 { return e.next }

// Now returns the log's time: the latest receipt or tick time applied.
func (e *Engine) Now() time.Time { return e.now }

// ChangeKind is what happened to an incident as a finding, or what else calls for an
// alert.
type ChangeKind int

// The change kinds.
const (
	ChangeCreated   ChangeKind = iota // became a finding for the first time
	ChangeUpdated                     // a finding changed (certainty, rules, evidence), or became one again
	ChangeCancelled                   // stopped being a finding: notified, dismissed, merged away
	ChangeWarning                     // an unusual-activity warning was raised
	ChangeEscalated                   // an acknowledgement deadline passed: tell the mediators
)

var changeKindNames = []string{"created", "updated", "cancelled", "warning", "escalated"}

func (k ChangeKind) String() string {
	if k >= 0 && int(k) < len(changeKindNames) {
		return changeKindNames[k]
	}
	return fmt.Sprintf("ChangeKind(%d)", int(k))
}

// MarshalText writes the kind's name.
func (k ChangeKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Change says what one entry did to one incident as a finding, which warning it raised, or
// which acknowledgement it found missed.
type Change struct {
	Kind     ChangeKind
	Incident int64 // created, updated, cancelled; escalated when the alert was an incident's
	// Version is the incident's version after the change, from 1; 1 for a warning; for an
	// escalation, the version of the alert not acknowledged.
	Version int
	Index   int64  // the entry that caused it
	Warning int64  // warning; escalated when the alert was a warning's
	Message string // escalated: the hotline message not acknowledged
	Party   string // escalated: the party that did not acknowledge
	Alert   string // escalated: the identifier of the alert not acknowledged
}

// Ignored is an entry the engine could not use.
type Ignored struct {
	Index  int64  `json:"index"`
	Reason string `json:"reason"`
}

// Apply applies the entry at index, which must be [Engine.Size], and returns the changes it
// caused: first the escalations of the deadlines its time passed, in deadline order, then
// the incidents' changes in incident order, then the warnings it raised. An entry the engine
// cannot use is recorded in [State] and is not an error; the only errors are an index out of
// order and a nil entry.
func (e *Engine) Apply(index int64, en *ledger.Entry) ([]Change, error) {
	return e.apply(index, en, nil)
}

// ApplyDecoded is Apply for an entry whose payload the caller has already decoded: o, when
// not nil, must be what feeds.DecodeRecord gives for the payload of the observation entry en
// (the intake decodes every record to answer its submitter), so that the state does not
// depend on which of the two was called.
func (e *Engine) ApplyDecoded(index int64, en *ledger.Entry, o *ingest.Observation) ([]Change, error) {
	return e.apply(index, en, o)
}

func (e *Engine) apply(index int64, en *ledger.Entry, decoded *ingest.Observation) ([]Change, error) {
	if index != e.next {
		return nil, fmt.Errorf("engine: applying entry %d: %w: next is %d", index, ErrOutOfOrder, e.next)
	}
	if en == nil {
		return nil, fmt.Errorf("engine: applying entry %d: nil entry", index)
	}
	e.next++
	if t := en.Received(); t.After(e.now) {
		e.now = t
	}
	e.touched, e.pre, e.warned = e.touched[:0], e.pre[:0], e.warned[:0]
	var reason string
	if en.Kind() == ledger.KindTick {
		reason = e.tick(en)
	}
	e.advance(index)
	switch en.Kind() {
	case ledger.KindObservation:
		reason = e.observe(index, en, decoded)
	case ledger.KindNotification:
		reason = e.notify(index, en)
	case ledger.KindReview:
		reason = e.review(index, en)
	case ledger.KindAcknowledgement:
		reason = e.acknowledge(index, en)
	case ledger.KindHotline:
		reason = e.hotline(index, en)
	}
	if reason != "" {
		e.ignored = append(e.ignored, Ignored{Index: index, Reason: reason})
	}
	incs := e.changes(index)
	e.owe(index, incs)
	e.owe(index, e.warned)
	if len(e.pre)+len(e.warned) == 0 {
		return incs, nil
	}
	out := make([]Change, 0, len(e.pre)+len(incs)+len(e.warned))
	out = append(out, e.pre...)
	out = append(out, incs...)
	return append(out, e.warned...), nil
}

func (e *Engine) touch(id int64) {
	if !slices.Contains(e.touched, id) {
		e.touched = append(e.touched, id)
	}
}

// changes evaluates the touched incidents and returns what became of them as findings.
func (e *Engine) changes(index int64) []Change {
	slices.Sort(e.touched)
	var out []Change
	for _, id := range e.touched {
		inc := e.incidents[id-1]
		e.evaluate(inc)
		finding := inc.verdict == VerdictInfraction
		sig := inc.signature()
		var k ChangeKind
		switch {
		case finding && !inc.alerted:
			k = ChangeCreated
		case finding && (!inc.live || !sig.equal(inc.sig)):
			k = ChangeUpdated
		case !finding && inc.live:
			k = ChangeCancelled
		default:
			inc.sig = sig
			continue
		}
		inc.alerted, inc.live, inc.sig = true, finding, sig
		inc.version++
		out = append(out, Change{Kind: k, Incident: id, Version: inc.version, Index: index})
	}
	return out
}

func (e *Engine) tick(en *ledger.Entry) string {
	var p struct {
		Time time.Time `json:"time"`
	}
	if err := json.Unmarshal(en.Payload(), &p); err != nil {
		return "tick: " + err.Error()
	}
	if p.Time.After(e.now) {
		e.now = p.Time.UTC()
	}
	return ""
}

// obsRec is one observation entry as the engine uses it.
type obsRec struct {
	index      int64
	submitter  string
	role       agreement.Role
	subParty   string
	interested bool
	o          ingest.Observation
	cat        int32  // o.Category's number (categoryOf)
	party      string // assessed, else claimed
	pt         geo.Point
	absent     bool
	track      string
	zones      []string
	matches    []match
	// why is the case of its reason as a supporting observation of its incident
	// (supportWhy), set by the incident's tally, and whyText that reason in words, made
	// then: an incident's view lists it for every supporting observation, and is read at
	// each change (the outbox's alerts), so words made per view cost O(n) per change.
	why     int
	whyText string
}

// match is one rule an observation may break, as located.
type match struct {
	rule      *agreement.Rule
	distanceM float64 // stand-off: distance to the line
}

func (r *obsRec) count() int {
	if r.o.Count <= 0 {
		return 1
	}
	return r.o.Count
}

func (e *Engine) observe(index int64, en *ledger.Entry, decoded *ingest.Observation) string {
	var o ingest.Observation
	if decoded != nil {
		o = *decoded
	} else {
		var rerr *ingest.RecordError
		if o, rerr = feeds.DecodeRecord(en.Payload()); rerr != nil {
			return "observation: " + rerr.Error()
		}
	}
	r := &obsRec{index: index, submitter: en.Submitter(), o: o, cat: e.categoryOf(o.Category), pt: geo.Point{Lon: o.Position.Lon, Lat: o.Position.Lat}}
	if id, ok := e.a.Identity(r.submitter); ok {
		r.role, r.subParty = id.Role, id.Party
	}
	if p, ok := e.a.Party(r.subParty); ok && p.Kind == agreement.PartyKindParty {
		r.interested = true
	}
	if o.Source == ingest.SourcePartyReport {
		r.interested = true
	}
	r.party = o.AssessedParty
	if r.party == "" {
		r.party = o.ClaimedParty
	}
	if p, ok := e.a.Party(r.party); ok {
		r.party = p.ID // the agreement's own string: joins compares it with many others'
	}
	r.absent = isAbsent(o.Text)
	if o.Track != nil {
		switch {
		case o.Track.MMSI != 0:
			r.track = fmt.Sprintf("mmsi:%d", o.Track.MMSI)
		case o.Track.ICAO != "":
			r.track = "icao:" + o.Track.ICAO
		}
	}
	e.locate(r)

	inc := e.fuse(r)
	switch {
	case inc != nil:
		inc.addObs(r)
		e.index(inc.id, r)
		e.touch(inc.id)
	case r.absent:
		return "observation " + quote(o.ID) + ": counter-evidence near no incident"
	case len(r.matches) > 0:
		inc = &incident{id: int64(len(e.incidents)) + 1, opened: e.now}
		inc.addObs(r)
		inc.reviewDue = inc.opened.Add(e.opts.ReviewDeadline)
		e.incidents = append(e.incidents, inc)
		e.index(inc.id, r)
		e.touch(inc.id)
	}
	var incID int64
	if inc != nil {
		incID = inc.id
	}
	e.trackPosition(index, r, incID)
	e.countActivity(index, r)
	return ""
}

// isAbsent reports whether an observation's text marks it as counter-evidence.
func isAbsent(text string) bool {
	rest, ok := strings.CutPrefix(strings.TrimSpace(text), "absent")
	return ok && (rest == "" || rest[0] == ':' || rest[0] == ' ' || rest[0] == ',' || rest[0] == '.')
}

// locate finds the zones and the rules the observation may break at its observed time.
func (e *Engine) locate(r *obsRec) {
	q := zonecheck.Query{Point: r.pt, Time: r.o.Observed, Category: r.o.Category, Party: r.party, Count: math.MaxInt32}
	if r.o.Position.AltM != nil {
		q.Alt, q.HasAlt = *r.o.Position.AltM, true
	}
	if _, ok := e.a.Category(q.Category); !ok {
		q.Category = ""
	}
	if _, ok := e.a.Party(q.Party); !ok {
		q.Party = ""
	}
	if err := e.zc.Check(&q, &e.res); err != nil {
		return
	}
	zones := e.zc.Zones()
	for _, zi := range e.res.Zones {
		r.zones = append(r.zones, zones[zi].ID)
	}
	if r.absent || q.Category == "" {
		return
	}
	rules := e.zc.Rules()
	for _, b := range e.res.Breaches {
		ar, ok := e.a.Rule(rules[b.Rule].ID)
		if !ok {
			continue
		}
		r.matches = append(r.matches, match{rule: ar, distanceM: b.DistanceM})
	}
}

// cell is a square of the fusion grid, for one family of categories (those under one root
// category, see rootOf): an observation can only fuse by position with those of its own
// family in its own and the neighbouring cells, during its own and the neighbouring
// fusion windows (slots).
type cell struct{ x, y, root int32 }

// cellRun is a run of cellRunLen cells of one row of the grid, x = k<<cellRunBits to
// k<<cellRunBits + cellRunLen - 1, looked up together: a search spans a few neighbouring
// cells of each row, and one map lookup per run instead of per cell takes a third of the
// lookups (each a likely cache miss) on a grid of 5 km.
type cellRun [cellRunLen]cellSlots

const (
	cellRunBits = 3
	cellRunLen  = 1 << cellRunBits
)

// cellRunKey is the key of the run that holds cell c (x and y fit 16 bits: cells are at
// least 0.01° wide).
func cellRunKey(c cell) uint64 {
	return uint64(uint16(c.x>>cellRunBits)) | uint64(uint16(c.y))<<16 | uint64(uint32(c.root))<<32
}

// cellSlots are the incidents filed under a cell, by slot, in slot order: a cell is keyed
// without its slot so that a search looks the neighbouring cells up once, not once per
// slot, in a map that grows with the area watched rather than with the log.
type cellSlots []slotIDs

type slotIDs struct {
	t   int32
	ids []int64
}

// search finds slot t as slices.BinarySearch does, looking at the latest slots first: most
// observations are of the log's present.
func (cs cellSlots) search(t int32) (int, bool) {
	for i := len(cs); i > max(0, len(cs)-3); i-- {
		switch {
		case cs[i-1].t == t:
			return i - 1, true
		case cs[i-1].t < t:
			return i, false
		}
	}
	return slices.BinarySearchFunc(cs, t, func(s slotIDs, t int32) int { return cmp.Compare(s.t, t) })
}

// add files id under slot t.
func (cs *cellSlots) add(t int32, id int64) {
	i, found := cs.search(t)
	if !found {
		*cs = slices.Insert(*cs, i, slotIDs{t: t})
	}
	if l := (*cs)[i].ids; len(l) == 0 || l[len(l)-1] != id {
		(*cs)[i].ids = append(l, id)
	}
}

// near appends to dst the ids filed under slots t-1 to t+1.
func (cs cellSlots) near(dst []int64, t int32) []int64 {
	i, _ := cs.search(t - 1)
	for ; i < len(cs) && cs[i].t <= t+1; i++ {
		dst = append(dst, cs[i].ids...)
	}
	return dst
}

// slot is the fusion window t falls in.
func (e *Engine) slot(t time.Time) int32 {
	w := int64(max(e.opts.FuseWindow, time.Second) / time.Second)
	s := t.Unix()
	q := s / w
	if s%w < 0 {
		q--
	}
	return int32(q)
}

func (e *Engine) cellDeg() float64 { return max(0.01, 1.1*e.opts.FuseDistanceM/111320) }

func (e *Engine) cellOf(p geo.Point) cell {
	d := e.cellDeg()
	return cell{x: int32(math.Floor(p.Lon / d)), y: int32(math.Floor(p.Lat / d))}
}

// index files an incident's observation under its cell and track.
func (e *Engine) index(id int64, r *obsRec) {
	c, t := e.cellOf(r.pt), e.slot(r.o.Observed)
	c.root = e.rootOf(r.o.Category)
	k := cellRunKey(c)
	run := e.cells[k]
	if run == nil {
		run = new(cellRun)
		e.cells[k] = run
	}
	run[c.x&(cellRunLen-1)].add(t, id)
	if r.track != "" {
		k := trackSlot{r.track, t}
		if l := e.track[k]; len(l) == 0 || l[len(l)-1] != id {
			e.track[k] = append(l, id)
		}
	}
}

// fuse returns the incident r belongs to, or nil.
func (e *Engine) fuse(r *obsRec) *incident {
	var cands []int64
	if r.track != "" {
		ts := e.slot(r.o.Observed)
		for t := ts - 1; t <= ts+1; t++ {
			cands = append(cands, e.track[trackSlot{r.track, t}]...)
		}
	}
	if r.o.Category != "" {
		d := e.cellDeg()
		c := e.cellOf(r.pt)
		cos := math.Cos(math.Min(math.Abs(r.pt.Lat)+d, 89) * math.Pi / 180)
		rx := int32(math.Ceil(e.opts.FuseDistanceM / (d * 111320 * math.Max(cos, 0.01))))
		ts, root := e.slot(r.o.Observed), e.rootOf(r.o.Category)
		cands = e.nearCells(cands, cell{c.x, c.y, root}, rx, ts)
	}
	slices.Sort(cands)
	cands = slices.Compact(cands)
	for _, id := range cands {
		inc := e.incidents[id-1]
		if inc.verdict == VerdictMerged || inc.verdict == VerdictDismissed {
			continue
		}
		if e.joins(inc, r) {
			return inc
		}
	}
	return nil
}

// nearCells appends to dst the incidents filed under slots ts-1 to ts+1 of the cells
// c.x-rx to c.x+rx of rows c.y-1 to c.y+1, of c's family.
func (e *Engine) nearCells(dst []int64, c cell, rx, ts int32) []int64 {
	for y := c.y - 1; y <= c.y+1; y++ {
		for x := c.x - rx; x <= c.x+rx; { // run by run
			base := x &^ (cellRunLen - 1)
			last := min(c.x+rx, base+cellRunLen-1)
			if run := e.cells[cellRunKey(cell{x, y, c.root})]; run != nil {
				for ; x <= last; x++ {
					dst = run[x-base].near(dst, ts)
				}
			}
			x = last + 1
		}
	}
	return dst
}

// joins reports whether r reports the same event as one of inc's observations.
func (e *Engine) joins(inc *incident, r *obsRec) bool {
	// Only those observed within the fusion window of r; latest first, as a report
	// usually joins the one just before it.
	lo, hi := r.o.Observed.Add(-e.opts.FuseWindow), r.o.Observed.Add(e.opts.FuseWindow)
	ts := inc.byTime
	end := sort.Search(len(ts), func(i int) bool { return ts[i].o.Observed.After(hi) })
	for i := end - 1; i >= 0 && !ts[i].o.Observed.Before(lo); i-- {
		x := ts[i]
		if r.track != "" && r.track == x.track {
			return true
		}
		if r.party != "" && x.party != "" && r.party != x.party {
			continue
		}
		if r.o.Category == "" || x.o.Category == "" {
			continue
		}
		if !e.categoriesRelated(r, x) {
			continue
		}
		if geo.DistanceMeters(r.pt, x.pt) <= e.opts.FuseDistanceM {
			return true
		}
	}
	return false
}

// categoriesRelated says whether one of the categories of r and x covers the other: by
// number (a table look-up; joins asks it of every observation in the fusion window), and
// for a category the agreement does not declare, which covers only itself, by name.
func (e *Engine) categoriesRelated(r, x *obsRec) bool {
	if r.cat < 0 || x.cat < 0 {
		return r.o.Category == x.o.Category
	}
	return e.categoryCovers(r.cat, x.cat) || e.categoryCovers(x.cat, r.cat)
}

func quote(s string) string { return fmt.Sprintf("%q", s) }
