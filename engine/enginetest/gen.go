// Package enginetest generates deterministic streams of ledger entries for the verification
// engine's tests and benchmarks: observations of various categories, parties and sources in
// and around the zones of the example agreement (examples/line-of-contact.yaml), counter-
// evidence, prior notifications, analyst reviews, ticks and a few malformed entries, all
// from a seed.
//
// The stream is a function of the seed and the size alone: the same [Config] gives the same
// entries, byte for byte, on every machine. It does not look at the engine, so reviews name
// incidents by guesswork and some are ignored, as in real use.
//
// Positions are jittered around anchor points chosen in the example agreement's zones (see
// examples/positions.csv); with another agreement the stream still decodes, but fewer
// observations break rules.
package enginetest

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"time"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/engine"
	"github.com/truce-mission/truce/ingest"
	"github.com/truce-mission/truce/keys"
	"github.com/truce-mission/truce/ledger"
)

// Identities are the example agreement's identities the stream uses.
var Identities = []string{"monitor-1", "monitor-2", "uav-gs-1", "ais-rx-1", "east-liaison", "west-liaison", "analyst-1"}

// DefaultRate is the default number of entries a day of log time: about what a busy
// mission's log receives.
const DefaultRate = 10_000

// MinSpan is the least log time a stream spans, so that even a short stream crosses the
// example agreement's phases (D+14, D+30).
const MinSpan = 45 * 24 * time.Hour

// Config says what stream to make.
type Config struct {
	Seed uint64
	N    int       // entries in the stream
	DDay time.Time // the agreement's D-day
	// Start is when the stream starts; two days before D-day when zero.
	Start time.Time
	// Span is the log time the stream spans; when zero, N/[DefaultRate] days, at least
	// [MinSpan].
	Span time.Duration
}

// Item is one generated entry, not yet signed.
type Item struct {
	Kind      ledger.Kind
	Submitter string
	Time      time.Time // submitted and received
	Payload   []byte
}

// anchor is a point in (or near) a zone of the example agreement, with what is typically
// seen there.
type anchor struct {
	lon, lat float64
	cats     []string
}

var anchors = []anchor{
	{36.40572, 47.01571, []string{"tank", "armoured-vehicle", "military-personnel", "fortification", "artillery-100mm"}}, // dmz
	{36.49394, 46.94889, []string{"tank", "military-personnel", "armoured-vehicle"}},                                     // dmz
	{39.79147, 47.44501, []string{"military-personnel", "tank", "fortification"}},                                        // dmz
	{41.93983, 49.63592, []string{"rotary-wing", "uav", "fixed-wing"}},                                                   // dmz airspace
	{37.26277, 46.90036, []string{"artillery-100mm", "mlrs"}},                                                            // 30 km from the line
	{38.08456, 47.73608, []string{"mlrs", "artillery-100mm"}},                                                            // 60 km
	{37.948, 47.8908, []string{"mlrs", "tactical-missile"}},                                                              // 80 km
	{41.48725, 47.2949, []string{"heavy-mlrs", "tactical-missile", "tank"}},                                              // 100 km
	{41.82699, 46.90926, []string{"heavy-mlrs"}},                                                                         // 150 km
	{40.6, 47.3, []string{"tank", "armoured-vehicle"}},                                                                   // limitation area
	{40.9, 47.35, []string{"tank"}},                                                                                      // the enclave
	{34.6, 47.5, []string{"uav", "tank"}},                                                                                // npp exclusion
	{37.1633, 47.16166, []string{"military-personnel", "civilian-traffic"}},                                              // crossing point
	{34.72124, 46.88851, []string{"foreign-force"}},                                                                      // outside the garrison area
	{28.6, 49.39962, []string{"foreign-force"}},                                                                          // rear area
	{24.0, 50.0, []string{"tank", "military-personnel"}},                                                                 // far away
}

// corridor points for ship tracks.
var corridor = [][2]float64{{30.81665, 45.98332}, {30.5, 45.2}, {29.9, 44.0}}

// Generator makes one stream; see [New].
type Generator struct {
	cfg   Config
	rng   *rand.Rand
	start time.Time
	step  time.Duration // mean time between entries
	now   time.Time
	i     int
	obs   int     // observations so far that may have opened an incident
	idx   []int64 // indexes of recent observations, for splits
	ships []ship
}

type ship struct {
	mmsi     uint32
	party    string
	cat      string
	lon, lat float64
}

// New returns a generator for cfg.
func New(cfg Config) *Generator {
	g := &Generator{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0x7275636520656e67))}
	g.start = cfg.Start.UTC()
	if cfg.Start.IsZero() {
		g.start = cfg.DDay.Add(-48 * time.Hour).UTC()
	}
	span := cfg.Span
	if span <= 0 {
		span = max(MinSpan, time.Duration(cfg.N)*24*time.Hour/DefaultRate)
	}
	g.step = span / time.Duration(max(cfg.N, 1))
	g.now = g.start
	for i := range 12 {
		s := ship{mmsi: 273_000_000 + uint32(i)*1111, party: []string{"east", "west", ""}[i%3], cat: "naval-vessel"}
		if s.party == "" {
			s.cat = "civilian-traffic"
		}
		c := corridor[i%len(corridor)]
		s.lon, s.lat = c[0], c[1]
		g.ships = append(g.ships, s)
	}
	return g
}

// Items returns the whole stream of cfg.
func Items(cfg Config) []Item {
	g := New(cfg)
	out := make([]Item, 0, cfg.N)
	for range cfg.N {
		out = append(out, g.Next())
	}
	return out
}

// Next returns the next entry of the stream. After N entries it goes on with the same mix.
func (g *Generator) Next() Item {
	g.now = g.now.Add(time.Duration(g.rng.Int64N(int64(2*g.step) + 1)))
	index := int64(g.i)
	g.i++
	p := g.rng.IntN(1000)
	var it Item
	switch {
	case p < 5: // malformed
		it = Item{Kind: ledger.KindObservation, Submitter: "monitor-2", Payload: []byte(`{"id":"bad","observed":"yesterday"}`)}
	case p < 25:
		it = g.tick()
	case p < 45:
		it = g.notification()
	case p < 60:
		it = g.review()
	case p < 160:
		it = g.shipReport()
	default:
		it = g.observation()
		if it.Kind == ledger.KindObservation {
			g.idx = append(g.idx, index)
			if len(g.idx) > 64 {
				g.idx = g.idx[1:]
			}
		}
	}
	it.Time = g.now
	return it
}

func (g *Generator) pick(xs []string) string { return xs[g.rng.IntN(len(xs))] }

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err == nil {
		b, err = ledger.Canonicalize(b)
	}
	if err != nil {
		panic(err)
	}
	return b
}

func (g *Generator) tick() Item {
	return Item{Kind: ledger.KindTick, Submitter: "monitor-1", Payload: mustJSON(engine.TickPayload{Time: g.now})}
}

func (g *Generator) observation() Item {
	ai := g.rng.IntN(len(anchors))
	a := anchors[ai]
	cat := g.pick(a.cats)
	o := ingest.Observation{
		ID:       fmt.Sprintf("g%d", g.i),
		Observed: g.now.Add(-time.Duration(g.rng.Int64N(int64(90 * time.Minute)))),
		Category: cat,
	}
	// What is seen near an anchor sits at a site that moves every day (up to about 12 km
	// from the anchor), so that incidents last a day or so rather than the whole log.
	// Most reports are within a few km of the site; some are far off.
	dx, dy := site(ai, o.Observed.Sub(g.start)/(24*time.Hour))
	spread := 0.03
	if g.rng.IntN(10) == 0 {
		spread = 0.4
	}
	o.Position.Lon = round6(a.lon + dx + spread*(2*g.rng.Float64()-1))
	o.Position.Lat = round6(a.lat + dy + spread*(2*g.rng.Float64()-1))
	switch cat {
	case "rotary-wing", "uav", "fixed-wing":
		alt := float64(100 + g.rng.IntN(25000))
		o.Position.AltM = &alt
	case "military-personnel":
		o.Count = 10 + g.rng.IntN(150)
	case "tank", "armoured-vehicle":
		o.Count = 1 + g.rng.IntN(14)
	}
	switch r := g.rng.IntN(10); {
	case r < 6:
		o.AssessedParty = g.pick([]string{"east", "west"})
	case r < 8:
		o.ClaimedParty = g.pick([]string{"east", "west"})
	}
	var who string
	switch r := g.rng.IntN(100); {
	case r < 35:
		who, o.Source = g.pick([]string{"monitor-1", "monitor-2"}), ingest.SourceGroundMonitor
	case r < 65:
		who, o.Source = "uav-gs-1", ingest.SourceUAV
	case r < 75:
		who, o.Source = "uav-gs-1", ingest.SourceSatellite
	case r < 80:
		who, o.Source = "analyst-1", ingest.SourceOSINT
	default:
		who, o.Source = g.pick([]string{"east-liaison", "west-liaison"}), ingest.SourcePartyReport
		if o.AssessedParty == "" && o.ClaimedParty == "" {
			// A party reports on the other party.
			if who == "east-liaison" {
				o.AssessedParty = "west"
			} else {
				o.AssessedParty = "east"
			}
		}
	}
	if g.rng.IntN(40) == 0 {
		o.Text = "absent: position empty, track marks only"
		o.Count = 0
	}
	g.obs++
	return Item{Kind: ledger.KindObservation, Submitter: who, Payload: mustJSON(o)}
}

// shipReport is an AIS position of a ship moving along the corridor.
func (g *Generator) shipReport() Item {
	// A ship sails for 12 hours and then stays out of the corridor for 4 (its track's next
	// voyage is a new incident).
	var active []int
	for i := range g.ships {
		if (g.now.Sub(g.start)/time.Hour+time.Duration(i))%16 < 12 {
			active = append(active, i)
		}
	}
	if len(active) == 0 {
		return g.observation()
	}
	s := &g.ships[active[g.rng.IntN(len(active))]]
	s.lon = round6(s.lon + 0.01*(2*g.rng.Float64()-1))
	s.lat = round6(s.lat + 0.01*(2*g.rng.Float64()-1))
	// Stay near the corridor.
	c := corridor[s.mmsi%uint32(len(corridor))]
	if math.Abs(s.lon-c[0]) > 0.2 || math.Abs(s.lat-c[1]) > 0.2 {
		s.lon, s.lat = c[0], c[1]
	}
	o := ingest.Observation{
		ID: fmt.Sprintf("g%d", g.i), Observed: g.now.Add(-time.Duration(g.rng.Int64N(int64(time.Minute)))),
		Category: s.cat, ClaimedParty: s.party, Source: ingest.SourceAIS, Track: &ingest.Track{MMSI: s.mmsi},
	}
	o.Position.Lon, o.Position.Lat = s.lon, s.lat
	g.obs++
	return Item{Kind: ledger.KindObservation, Submitter: "ais-rx-1", Payload: mustJSON(o)}
}

func (g *Generator) notification() Item {
	party := g.pick([]string{"east", "west"})
	a := anchors[g.rng.IntN(4)] // the DMZ anchors
	p := engine.NotificationPayload{
		ID:       fmt.Sprintf("n%d", g.i),
		Category: g.pick([]string{"heavy-weapons", "tank", "armoured-vehicle", "military-personnel"}),
		Count:    5 + g.rng.IntN(40),
	}
	lead := time.Duration(g.rng.Int64N(int64(120 * time.Hour))) // sometimes too late
	p.From = g.now.Add(lead).Truncate(time.Hour)
	p.Until = p.From.Add(time.Duration(1+g.rng.IntN(24)) * time.Hour)
	switch g.rng.IntN(3) {
	case 0:
		p.Zones = []string{"dmz"}
	case 1:
		p.Area = &engine.Area{Center: [2]float64{a.lon, a.lat}, RadiusM: 10_000}
	}
	return Item{Kind: ledger.KindNotification, Submitter: party + "-liaison", Payload: mustJSON(p)}
}

func (g *Generator) review() Item {
	guess := func() int64 { return 1 + g.rng.Int64N(int64(max(1, g.obs/6))) }
	var p engine.ReviewPayload
	switch r := g.rng.IntN(20); {
	case r < 10:
		p = engine.ReviewPayload{Action: "confirm", Incident: guess(), Note: "checked the imagery"}
		if r < 3 {
			p.Certainty = "likely"
		}
	case r < 17:
		p = engine.ReviewPayload{Action: "dismiss", Incident: guess(), Reason: "misidentified"}
	case r < 19:
		p = engine.ReviewPayload{Action: "merge", Incidents: []int64{guess(), guess()}}
	default:
		p = engine.ReviewPayload{Action: "split", Incident: guess()}
		if len(g.idx) > 0 {
			p.Entries = []int64{g.idx[g.rng.IntN(len(g.idx))]}
		}
	}
	return Item{Kind: ledger.KindReview, Submitter: "analyst-1", Payload: mustJSON(p)}
}

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// site is the offset, in degrees, of anchor ai's site on a day: a function of both alone.
func site(ai int, day time.Duration) (dx, dy float64) {
	r := rand.New(rand.NewPCG(uint64(ai), uint64(day)))
	return 0.15 * (2*r.Float64() - 1), 0.1 * (2*r.Float64() - 1)
}

// LoadKeys loads the private keys of [Identities] from dir/<id>.key.
func LoadKeys(dir string) (map[string]ed25519.PrivateKey, error) {
	m := map[string]ed25519.PrivateKey{}
	for _, id := range Identities {
		k, err := keys.LoadPrivateKey(filepath.Join(dir, id+".key"))
		if err != nil {
			return nil, fmt.Errorf("key of %q: %w", id, err)
		}
		m[id] = k
	}
	return m, nil
}

// Sign makes signed, not yet received entries of items. Entries are signed in batches
// ([ledger.SignBatch]): within each run of up to 4,096 items, one signature per submitter,
// so that signing a million entries takes seconds.
func Sign(items []Item, keys map[string]ed25519.PrivateKey) ([]*ledger.Entry, error) {
	const window = 4096
	out := make([]*ledger.Entry, len(items))
	for start := 0; start < len(items); start += window {
		end := min(len(items), start+window)
		groups := map[string][]*ledger.Entry{}
		var order []string
		for i := start; i < end; i++ {
			it := items[i]
			en, err := ledger.NewEntry(it.Kind, it.Submitter, it.Time, it.Payload)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			out[i] = en
			if _, ok := groups[it.Submitter]; !ok {
				order = append(order, it.Submitter)
			}
			groups[it.Submitter] = append(groups[it.Submitter], en)
		}
		for _, who := range order {
			k, ok := keys[who]
			if !ok {
				return nil, fmt.Errorf("no key for %q", who)
			}
			if err := ledger.SignBatch(groups[who], k); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// Received returns signed entries as a log would have received them, each at its item's time.
func Received(items []Item, signed []*ledger.Entry) ([]*ledger.Entry, error) {
	out := make([]*ledger.Entry, len(signed))
	for i, en := range signed {
		r, err := en.Receive(items[i].Time)
		if err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}
		out[i] = r
	}
	return out, nil
}

// Agreement loads an agreement file for a test or benchmark, failing it on error.
func Agreement(tb interface {
	Helper()
	Fatal(...any)
}, path string) *agreement.Agreement {
	tb.Helper()
	a, err := agreement.LoadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}
