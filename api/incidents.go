package api

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/truce-mission/truce/alert/outbox"
	"github.com/truce-mission/truce/engine"
)

// IncidentPage is the answer of GET /v1/incidents.
type IncidentPage struct {
	Incidents []outbox.Incident `json:"incidents"`
	// Next is the cursor of the next page, empty on the last one.
	Next string `json:"next,omitempty"`
}

// MaxIncidentsPerPage bounds a page of GET /v1/incidents.
const MaxIncidentsPerPage = 500

// catchUp waits briefly until the outbox has what the log held at the request (read your
// writes); past the wait the answer is what the outbox has.
func (h *alertHandlers) catchUp(ctx context.Context) {
	if h.log == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_ = h.ob.Wait(ctx, h.log.Size())
}

// listIncidents answers GET /v1/incidents: incidents by id, filtered, a page at a time.
func (h *alertHandlers) listIncidents(w http.ResponseWriter, r *http.Request) {
	ident, err := h.reader(r, nil, mayReadIncidents, "read incidents")
	if err != nil {
		writeError(w, r, err)
		return
	}
	f, after, limit, err := h.incidentParams(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	h.catchUp(r.Context())
	incs, more := h.ob.Incidents(f, func(parties []string) bool { return outbox.Visible(ident, parties, false) }, after, limit)
	page := IncidentPage{Incidents: incs}
	if page.Incidents == nil {
		page.Incidents = []outbox.Incident{}
	}
	if more {
		page.Next = base64.RawURLEncoding.EncodeToString([]byte("i" + strconv.FormatInt(incs[len(incs)-1].ID, 10)))
	}
	writeJSON(w, http.StatusOK, page)
}

// getIncident answers GET /v1/incidents/{id}: the incident with its evidence (ledger indexes
// and why each counted), its explanation and its alerts. One the identity may not see is 404.
func (h *alertHandlers) getIncident(w http.ResponseWriter, r *http.Request) {
	ident, err := h.reader(r, nil, mayReadIncidents, "read incidents")
	if err != nil {
		writeError(w, r, err)
		return
	}
	s := r.PathValue("id")
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 {
		writeError(w, r, badRequest("id", fmt.Sprintf("%q is not an incident id (1, 2, …)", s)))
		return
	}
	h.catchUp(r.Context())
	inc, ok := h.ob.Incident(id)
	if !ok || !outbox.Visible(ident, inc.Addressees, false) {
		writeError(w, r, &httpError{status: http.StatusNotFound, field: "id", msg: fmt.Sprintf("no incident %d", id), err: errNotFoundHere})
		return
	}
	writeJSON(w, http.StatusOK, inc)
}

func (h *alertHandlers) incidentParams(r *http.Request) (f outbox.IncidentFilter, after int64, limit int, err error) {
	a := h.ob.Agreement()
	q := r.URL.Query()
	for name := range q {
		switch name {
		case "verdict", "party", "zone", "category", "since", "until", "limit", "cursor":
		default:
			return f, 0, 0, badRequest(name, fmt.Sprintf("unknown parameter %q", name))
		}
	}
	limit = 100
	if s := q.Get("verdict"); s != "" {
		v, err := engine.ParseVerdict(s)
		if err != nil {
			return f, 0, 0, badRequest("verdict", err.Error())
		}
		f.Verdict = &v
	}
	if f.Party = q.Get("party"); f.Party != "" {
		if _, ok := a.Party(f.Party); !ok {
			return f, 0, 0, badRequest("party", fmt.Sprintf("party %q is not defined in the agreement", f.Party))
		}
	}
	if f.Zone = q.Get("zone"); f.Zone != "" {
		if _, ok := a.Zone(f.Zone); !ok {
			return f, 0, 0, badRequest("zone", fmt.Sprintf("zone %q is not defined in the agreement", f.Zone))
		}
	}
	if f.Category = q.Get("category"); f.Category != "" {
		if _, ok := a.Category(f.Category); !ok {
			return f, 0, 0, badRequest("category", fmt.Sprintf("category %q is not defined in the agreement", f.Category))
		}
	}
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if s := q.Get(p.name); s != "" {
			if *p.t, err = time.Parse(time.RFC3339Nano, s); err != nil {
				return f, 0, 0, badRequest(p.name, fmt.Sprintf("%q is not an RFC 3339 time", s))
			}
		}
	}
	if s := q.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > MaxIncidentsPerPage {
			return f, 0, 0, badRequest("limit", fmt.Sprintf("%q: want 1 to %d", s, MaxIncidentsPerPage))
		}
	}
	if s := q.Get("cursor"); s != "" {
		b, err := base64.RawURLEncoding.DecodeString(s)
		var n int64
		if err == nil && len(b) > 1 && b[0] == 'i' {
			n, err = strconv.ParseInt(string(b[1:]), 10, 64)
		}
		if err != nil || len(b) < 2 || b[0] != 'i' || n < 0 {
			return f, 0, 0, badRequest("cursor", "not a cursor this server gave")
		}
		after = n
	}
	return f, after, limit, nil
}
