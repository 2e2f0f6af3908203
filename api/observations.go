package api

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/alert/outbox"
	"github.com/truce-mission/truce/ingest"
	"github.com/truce-mission/truce/ingest/feeds"
	"github.com/truce-mission/truce/ledger"
	"github.com/truce-mission/truce/obsindex"
	"github.com/truce-mission/truce/reqauth"
)

// DefaultMaxInFlight bounds the intake requests worked on at once; more are answered 429.
const DefaultMaxInFlight = 32

// authn identifies the signer of a request among the agreement's identities.
type authn struct {
	a       *agreement.Agreement
	checker *reqauth.Checker
}

func newAuthn(a *agreement.Agreement, now func() time.Time) *authn {
	return &authn{a: a, checker: &reqauth.Checker{Keys: ledger.AgreementKeys(a), Now: now}}
}

// identify checks r's request signature over body and returns the identity that signed it.
func (au *authn) identify(r *http.Request, body []byte) (*agreement.Identity, error) {
	if au == nil || au.a == nil {
		return nil, &httpError{status: http.StatusServiceUnavailable, msg: "the server has no agreement: signed requests cannot be checked"}
	}
	id, err := au.checker.Check(r, body)
	if err != nil {
		return nil, err
	}
	ident, _ := au.a.Identity(id)
	return ident, nil
}

type intakeMetrics struct {
	accepted prometheus.Counter
	rejected *prometheus.CounterVec
	inFlight prometheus.Gauge
}

func newIntakeMetrics(reg prometheus.Registerer) *intakeMetrics {
	m := &intakeMetrics{
		accepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "truce_observations_accepted_total", Help: "Observations appended to the log.",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "truce_observations_rejected_total", Help: "Observations (or whole intake requests) refused, by reason.",
		}, []string{"reason"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "truce_intake_queue_depth", Help: "Intake requests being worked on.",
		}),
	}
	reg.MustRegister(m.accepted, m.rejected, m.inFlight)
	return m
}

type observationHandlers struct {
	log    Log
	a      *agreement.Agreement
	auth   *authn
	index  *obsindex.Index
	tagger *obsindex.Tagger
	poke   func()
	offer  func([]outbox.Appended) // hands the alert outbox what was appended
	slots  chan struct{}
	m      *intakeMetrics
}

func (h *observationHandlers) register(mux *router) {
	mux.HandleFunc("POST /v1/observations", h.submit)
	mux.HandleFunc("GET /v1/observations", h.list)
}

func ed25519Verify(id *agreement.Identity, msg, sig []byte) bool {
	return len(id.Key) == ed25519.PublicKeySize && ed25519.Verify(id.Key, msg, sig)
}

// record is one record of an intake body with its path in the body.
type record struct {
	path string
	raw  json.RawMessage
}

func (h *observationHandlers) submit(w http.ResponseWriter, r *http.Request) {
	// Shed load before reading anything: a bounded number of requests is worked on at once,
	// so memory does not grow with the offered load.
	select {
	case h.slots <- struct{}{}:
	default:
		h.m.rejected.WithLabelValues("overload").Inc()
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusTooManyRequests, errorBody{Error: "too many intake requests in flight; retry after 1 s"})
		return
	}
	h.m.inFlight.Inc()
	defer func() { <-h.slots; h.m.inFlight.Dec() }()

	body, err := readBody(w, r, maxObservationsBody)
	if err != nil {
		h.refuse(w, r, "too-large", err)
		return
	}
	ident, err := h.auth.identify(r, body)
	if err != nil {
		h.refuse(w, r, "unauthenticated", err)
		return
	}
	if !maySubmitObservations(ident.Role) {
		h.refuse(w, r, "forbidden", forbidden(ident, "submit observations"))
		return
	}
	recs, err := splitRecords(r.Header.Get("Content-Type"), body)
	if err != nil {
		h.refuse(w, r, "malformed", err)
		return
	}
	submitted, sig, err := batchHeaders(r)
	if err != nil {
		h.refuse(w, r, "malformed", err)
		return
	}
	// The batch signature covers every record as canonicalized, refused ones included, so
	// the whole batch is canonicalized and checked before any record is judged. Each record
	// becomes an entry at once (canonicalized, with its digest, in one pass), unless the
	// ledger refuses it as an entry: its digest is then taken of the canonical record.
	made := make([]*ledger.Entry, len(recs))
	madeErr := make([]error, len(recs))
	payloads := make([][]byte, len(recs))
	digests := make([]tlog.Hash, len(recs))
	for i, rec := range recs {
		e, err := ledger.NewEntryJSON(ledger.KindObservation, ident.ID, submitted, rec.raw)
		if err == nil {
			made[i], payloads[i], digests[i] = e, e.Payload(), e.Digest()
			continue
		}
		madeErr[i] = err
		if payloads[i], err = ledger.Canonicalize(rec.raw); err != nil {
			h.refuse(w, r, "malformed", badRequest(rec.path, fmt.Sprintf("record is not canonicalizable JSON: %v", err)))
			return
		}
		digests[i] = ledger.BatchDigest(ledger.KindObservation, ident.ID, submitted, payloads[i])
	}
	root := ledger.BatchTreeHash(digests)
	if !ed25519Verify(ident, ledger.BatchSignedMessage(ident.ID, int64(len(recs)), root), sig) {
		h.refuse(w, r, "bad-signature", &httpError{status: http.StatusUnauthorized, field: HeaderBatchSignature,
			msg: fmt.Sprintf("%s: does not verify for identity %q over the %d records as canonicalized", HeaderBatchSignature, ident.ID, len(recs)), err: reqauth.ErrBadSignature})
		return
	}

	resp := IntakeResponse{Results: make([]IntakeResult, len(recs))}
	var entries []*ledger.Entry
	var keys []string
	var at []int // result index of each entry
	// Decoded from the payloads as logged, as the index would decode the entries.
	obs := make([]ingest.Observation, len(recs))
	rerrs := make([]*ingest.RecordError, len(recs))
	feeds.DecodeRecords(payloads, obs, rerrs)
	seen := make(map[string]int, len(recs))
	for i, rec := range recs {
		res := &resp.Results[i]
		res.Record = i
		o, rerr := obs[i], rerrs[i]
		res.ID = o.ID
		if rerr != nil {
			res.Error = recordError(rec.path, rerr.Field, "invalid", rerr.Err.Error())
			continue
		}
		if e := h.checkReferences(&o); e != nil {
			res.Error = recordError(rec.path, e.Field, e.Reason, e.Message)
			continue
		}
		if j, dup := seen[o.ID]; dup {
			res.Error = recordError(rec.path, "id", "duplicate-id", fmt.Sprintf("id %q is also record %d of this request", o.ID, j))
			continue
		}
		seen[o.ID] = i
		if made[i] == nil {
			res.Error = recordError(rec.path, "", "invalid", madeErr[i].Error())
			continue
		}
		entries = append(entries, made[i])
		keys = append(keys, ident.ID+"/observation/"+o.ID)
		at = append(at, i)
	}
	if err := signEntries(entries, at, digests, sig); err != nil {
		writeError(w, r, err)
		return
	}
	if len(entries) > 0 {
		receipts, errs := h.append(r.Context(), entries, keys)
		// The index takes the records it would otherwise read back from the log and decode.
		offered := make([]*obsindex.Record, 0, len(at))
		appended := make([]outbox.Appended, 0, len(at)) // and so does the alert outbox
		for j, i := range at {
			res := &resp.Results[i]
			if errs[j] != nil {
				if statusOf(errs[j]) >= 500 {
					writeError(w, r, errs[j])
					return
				}
				reason := "refused"
				if errors.Is(errs[j], ledger.ErrKeyConflict) {
					reason = "conflict"
				}
				res.Error = recordError(recs[i].path, "id", reason, errs[j].Error())
				continue
			}
			idx := receipts[j].Index
			res.Index = &idx
			res.LeafHash = base64.StdEncoding.EncodeToString(receipts[j].LeafHash[:])
			res.Duplicate = receipts[j].Duplicate
			res.Zones, res.Rules = h.tagger.Tag(&obs[i])
			if !res.Duplicate {
				offered = append(offered, h.index.Record(idx, ident.ID, receipts[j].Received, obs[i], res.Zones, res.Rules))
				appended = append(appended, outbox.Appended{Receipt: receipts[j], Observation: &obs[i]})
			}
		}
		h.index.Offer(offered)
		h.offer(appended)
		h.poke()
	}
	for i := range resp.Results {
		switch res := &resp.Results[i]; {
		case res.Error != nil:
			resp.Refused++
			h.m.rejected.WithLabelValues(res.Error.Reason).Inc()
		case res.Duplicate:
			resp.Duplicates++
		default:
			resp.Accepted++
		}
	}
	h.m.accepted.Add(float64(resp.Accepted))
	status := http.StatusOK
	if resp.Refused == len(recs) {
		status = http.StatusUnprocessableEntity
	}
	writeJSON(w, status, resp)
}

// signEntries gives the entries made of a request's records (entry j of record at[j]) the
// batch signature, over the digests of all its records. When every record made an entry,
// the log will take the whole batch as a run, which needs no audit paths; otherwise each
// entry gets its path.
func signEntries(es []*ledger.Entry, at []int, digests []tlog.Hash, sig []byte) error {
	n := int64(len(digests))
	if len(es) == len(digests) && n > 1 {
		for i, e := range es {
			if err := e.SetBatchSignature(ledger.BatchProof{Size: n, Index: int64(i), Run: true}, sig); err != nil {
				return err // the shapes are the handler's own: unreachable
			}
		}
		return nil
	}
	_, proofs := ledger.BatchRoot(digests)
	for j, e := range es {
		if err := e.SetBatchSignature(proofs[at[j]], sig); err != nil {
			return err
		}
	}
	return nil
}

// append appends the entries in one group commit; when the batch fails as a whole (a key
// reused for other content, say), it appends them one by one to give each its own outcome,
// each then with its audit path.
func (h *observationHandlers) append(ctx context.Context, es []*ledger.Entry, keys []string) ([]ledger.Receipt, []error) {
	errs := make([]error, len(es))
	rs, err := h.log.AppendBatch(ctx, es, keys)
	if err == nil {
		return rs, errs
	}
	if es[0].IsRun() {
		if perr := ledger.SetBatchPaths(es); perr != nil {
			for i := range errs {
				errs[i] = perr
			}
			return make([]ledger.Receipt, len(es)), errs
		}
	}
	if statusOf(err) >= 500 {
		for i := range errs {
			errs[i] = err
		}
		return make([]ledger.Receipt, len(es)), errs
	}
	rs = make([]ledger.Receipt, len(es))
	var wg sync.WaitGroup
	for i := range es {
		wg.Go(func() { rs[i], errs[i] = h.log.AppendWithKey(ctx, es[i], keys[i]) })
	}
	wg.Wait()
	return rs, errs
}

func (h *observationHandlers) refuse(w http.ResponseWriter, r *http.Request, reason string, err error) {
	h.m.rejected.WithLabelValues(reason).Inc()
	writeError(w, r, err)
}

// referenceError is a record naming what the agreement does not know.
type referenceError struct{ Field, Reason, Message string }

// checkReferences refuses categories and parties the agreement does not define: an
// observation of an unknown category can match no rule, which would hide it.
func (h *observationHandlers) checkReferences(o *ingest.Observation) *referenceError {
	if o.Category != "" {
		if _, ok := h.a.Category(o.Category); !ok {
			return &referenceError{"category", "unknown-category", fmt.Sprintf("category %q is not defined in the agreement", o.Category)}
		}
	}
	for _, p := range []struct{ field, id string }{{"claimed_party", o.ClaimedParty}, {"assessed_party", o.AssessedParty}} {
		if p.id == "" {
			continue
		}
		if _, ok := h.a.Party(p.id); !ok {
			return &referenceError{p.field, "unknown-party", fmt.Sprintf("party %q is not defined in the agreement", p.id)}
		}
	}
	return nil
}

func recordError(path, field, reason, msg string) *RecordError {
	if field != "" {
		path += "." + field
	}
	return &RecordError{Field: path, Reason: reason, Message: msg}
}

// batchHeaders reads the batch's submission time and signature.
func batchHeaders(r *http.Request) (time.Time, []byte, error) {
	sv := r.Header.Get(HeaderBatchSubmitted)
	submitted, err := time.Parse(time.RFC3339Nano, sv)
	if err != nil {
		return time.Time{}, nil, badRequest(HeaderBatchSubmitted, fmt.Sprintf("%s: %q is not an RFC 3339 time", HeaderBatchSubmitted, sv))
	}
	sig, err := base64.StdEncoding.DecodeString(r.Header.Get(HeaderBatchSignature))
	if err != nil || len(sig) != 64 {
		return time.Time{}, nil, badRequest(HeaderBatchSignature, HeaderBatchSignature+": want the standard base64 of a 64-byte ed25519 signature")
	}
	return submitted.UTC(), sig, nil
}

// splitRecords cuts a body into its records by content type.
func splitRecords(contentType string, body []byte) ([]record, error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = strings.TrimSpace(contentType)
	}
	var recs []record
	switch mt {
	case ContentJSON:
		var b struct {
			Observations []json.RawMessage `json:"observations"`
		}
		d := json.NewDecoder(bytes.NewReader(body))
		d.DisallowUnknownFields()
		if err := d.Decode(&b); err != nil {
			return nil, decodeError(err)
		}
		if d.More() {
			return nil, badRequest("", "body holds more than one JSON value")
		}
		for i, raw := range b.Observations {
			recs = append(recs, record{fmt.Sprintf("observations[%d]", i), raw})
		}
	case ContentNDJSON:
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(nil, maxObservationsBody)
		for line := 1; sc.Scan(); line++ {
			if len(bytes.TrimSpace(sc.Bytes())) == 0 {
				continue
			}
			recs = append(recs, record{"line " + strconv.Itoa(line), bytes.Clone(sc.Bytes())})
		}
	case ContentGeoJSON:
		var fc struct {
			Type     string            `json:"type"`
			Features []json.RawMessage `json:"features"`
		}
		if err := json.Unmarshal(body, &fc); err != nil {
			return nil, decodeError(err)
		}
		if fc.Type != "FeatureCollection" {
			return nil, badRequest("type", fmt.Sprintf("type %q, want \"FeatureCollection\"", fc.Type))
		}
		for i, raw := range fc.Features {
			recs = append(recs, record{fmt.Sprintf("features[%d]", i), raw})
		}
	default:
		return nil, &httpError{status: http.StatusUnsupportedMediaType, field: "Content-Type",
			msg: fmt.Sprintf("Content-Type %q: want %s, %s or %s", contentType, ContentJSON, ContentNDJSON, ContentGeoJSON)}
	}
	switch {
	case len(recs) == 0:
		return nil, badRequest("", "no records")
	case len(recs) > MaxObservationsPerRequest:
		return nil, &httpError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("%d records in one request, at most %d", len(recs), MaxObservationsPerRequest)}
	}
	return recs, nil
}

// list answers GET /v1/observations.
func (h *observationHandlers) list(w http.ResponseWriter, r *http.Request) {
	ident, err := h.auth.identify(r, nil)
	if err != nil {
		writeError(w, r, err)
		return
	}
	visible, err := observationsVisible(ident)
	if err != nil {
		writeError(w, r, err)
		return
	}
	f, after, limit, err := h.listParams(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	// Read your writes: wait (briefly) until the index has what the log held at the request.
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	_ = h.index.Wait(ctx, h.log.Size())
	recs, more := h.index.Query(f, visible, after, limit)
	page := ObservationPage{Observations: make([]StoredObservation, len(recs))}
	for i, rec := range recs {
		page.Observations[i] = StoredObservation{
			Index: rec.Index, Submitter: rec.Submitter, Received: rec.Received.Format(time.RFC3339Nano),
			Zones: nonNil(rec.Zones), Rules: nonNil(rec.Rules), Obs: rec.Obs,
		}
	}
	if more {
		page.Next = encodeCursor(recs[len(recs)-1].Index)
	}
	writeJSON(w, http.StatusOK, page)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// The cursor is opaque to clients: the log index of the last observation returned.
func encodeCursor(index int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o" + strconv.FormatInt(index, 10)))
}

func decodeCursor(s string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 2 || b[0] != 'o' {
		return 0, badRequest("cursor", "not a cursor this server gave")
	}
	n, err := strconv.ParseInt(string(b[1:]), 10, 64)
	if err != nil || n < 0 {
		return 0, badRequest("cursor", "not a cursor this server gave")
	}
	return n, nil
}

// MaxObservationsPerPage bounds a page of GET /v1/observations.
const MaxObservationsPerPage = 1000

func (h *observationHandlers) listParams(r *http.Request) (f obsindex.Filter, after int64, limit int, err error) {
	q := r.URL.Query()
	for name := range q {
		switch name {
		case "since", "until", "zone", "party", "category", "source", "submitter", "limit", "cursor":
		default:
			return f, 0, 0, badRequest(name, fmt.Sprintf("unknown parameter %q", name))
		}
	}
	after, limit = -1, 100
	if s := q.Get("since"); s != "" {
		if f.Since, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return f, 0, 0, badRequest("since", fmt.Sprintf("%q is not an RFC 3339 time", s))
		}
	}
	if s := q.Get("until"); s != "" {
		if f.Until, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return f, 0, 0, badRequest("until", fmt.Sprintf("%q is not an RFC 3339 time", s))
		}
	}
	if f.Zone = q.Get("zone"); f.Zone != "" {
		if _, ok := h.a.Zone(f.Zone); !ok {
			return f, 0, 0, badRequest("zone", fmt.Sprintf("zone %q is not defined in the agreement", f.Zone))
		}
	}
	if f.Party = q.Get("party"); f.Party != "" {
		if _, ok := h.a.Party(f.Party); !ok {
			return f, 0, 0, badRequest("party", fmt.Sprintf("party %q is not defined in the agreement", f.Party))
		}
	}
	if f.Category = q.Get("category"); f.Category != "" {
		if _, ok := h.a.Category(f.Category); !ok {
			return f, 0, 0, badRequest("category", fmt.Sprintf("category %q is not defined in the agreement", f.Category))
		}
	}
	if s := q.Get("source"); s != "" {
		if err := f.Source.UnmarshalText([]byte(s)); err != nil {
			return f, 0, 0, badRequest("source", err.Error())
		}
	}
	f.Submitter = q.Get("submitter")
	if s := q.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > MaxObservationsPerPage {
			return f, 0, 0, badRequest("limit", fmt.Sprintf("%q: want 1 to %d", s, MaxObservationsPerPage))
		}
	}
	if s := q.Get("cursor"); s != "" {
		if after, err = decodeCursor(s); err != nil {
			return f, 0, 0, err
		}
	}
	return f, after, limit, nil
}
