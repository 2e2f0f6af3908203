package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/alert/outbox"
)

// DefaultHeartbeat is how often GET /v1/alerts/stream writes a comment line when no alert
// comes, so that proxies keep the connection and a dead client is noticed.
const DefaultHeartbeat = 15 * time.Second

// ContentCAP is the media type of a CAP 1.2 XML alert.
const ContentCAP = "application/cap+xml"

// alertHandlers serve the early-warning side: incidents, alerts (one, and the SSE stream) and
// webhook subscriptions, all read from the alert outbox.
type alertHandlers struct {
	log       Log
	auth      *authn
	ob        *outbox.Outbox
	hooks     *outbox.Webhooks
	heartbeat time.Duration
	closing   <-chan struct{} // nil: never
}

func (h *alertHandlers) register(mux *router) {
	mux.HandleFunc("GET /v1/incidents", h.listIncidents)
	mux.HandleFunc("GET /v1/incidents/{id}", h.getIncident)
	mux.HandleFunc("GET /v1/alerts/stream", h.stream)
	mux.HandleFunc("GET /v1/alerts/{id}", h.getAlert)
	mux.HandleFunc("POST /v1/subscriptions", h.subscribe)
	mux.HandleFunc("GET /v1/subscriptions", h.listSubscriptions)
	mux.HandleFunc("DELETE /v1/subscriptions/{id}", h.unsubscribe)
}

// errNoOutbox answers the early-warning endpoints of a server run without an outbox.
var errNoOutbox = &httpError{status: http.StatusServiceUnavailable, msg: "this server keeps no alert outbox"}

// reader identifies a signed request and checks its role with may; 401, 403 or 503 otherwise.
func (h *alertHandlers) reader(r *http.Request, body []byte, may func(agreement.Role) bool, what string) (*agreement.Identity, error) {
	id, err := h.auth.identify(r, body)
	if err != nil {
		return nil, err
	}
	if !may(id.Role) {
		return nil, forbidden(id, what)
	}
	if h.ob == nil {
		return nil, errNoOutbox
	}
	return id, nil
}

// getAlert answers GET /v1/alerts/{id}: the CAP alert of an identifier, in its JSON rendering,
// or as CAP XML when the id ends in ".cap" or the request accepts application/cap+xml. An alert
// the identity may not see is 404, as if it did not exist.
func (h *alertHandlers) getAlert(w http.ResponseWriter, r *http.Request) {
	ident, err := h.reader(r, nil, mayReadAlerts, "read alerts")
	if err != nil {
		writeError(w, r, err)
		return
	}
	id := r.PathValue("id")
	id, asXML := strings.CutSuffix(id, ".cap")
	asXML = asXML || strings.Contains(r.Header.Get("Accept"), ContentCAP)
	ev, ok := h.ob.Alert(id)
	if !ok || !ev.VisibleTo(ident) {
		writeError(w, r, &httpError{status: http.StatusNotFound, field: "id", msg: fmt.Sprintf("no alert %q", id), err: errNotFoundHere})
		return
	}
	if !asXML {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(ev.JSON)
		return
	}
	a, err := ev.CAP()
	var b []byte
	if err == nil {
		b, err = a.XML()
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", ContentCAP)
	_, _ = w.Write(b)
}

// stream answers GET /v1/alerts/stream with Server-Sent Events: one "alert" event per alert
// the identity may see, its id the alert's sequence number and its data the alert's JSON
// rendering, from after the Last-Event-ID header (or ?after=), or from now when neither is
// given; a comment line every heartbeat.
func (h *alertHandlers) stream(w http.ResponseWriter, r *http.Request) {
	ident, err := h.reader(r, nil, mayReadAlerts, "read alerts")
	if err != nil {
		writeError(w, r, err)
		return
	}
	after, err := streamStart(r, h.ob.Last())
	if err != nil {
		writeError(w, r, err)
		return
	}
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // the server's write timeout would end the stream
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprintf(w, "retry: 2000\n: after %d\n\n", after); err != nil {
		return
	}
	if rc.Flush() != nil {
		return
	}
	hb := time.NewTicker(h.heartbeat)
	defer hb.Stop()
	const page = 512
	var buf []byte
	for {
		changed := h.ob.Changed()
		evs := h.ob.Events(after, page)
		buf = buf[:0]
		for _, ev := range evs {
			after = ev.Seq
			if !ev.VisibleTo(ident) {
				continue
			}
			buf = append(buf, "id: "...)
			buf = strconv.AppendInt(buf, ev.Seq, 10)
			buf = append(buf, "\nevent: alert\ndata: "...)
			buf = append(buf, ev.JSON...) // one line: JSON escapes newlines in strings
			buf = append(buf, "\n\n"...)
		}
		if len(buf) > 0 {
			if _, err := w.Write(buf); err != nil || rc.Flush() != nil {
				return
			}
		}
		if len(evs) == page {
			continue
		}
		select {
		case <-r.Context().Done():
			return
		case <-h.closing:
			return
		case <-changed:
		case <-hb.C:
			if _, err := w.Write([]byte(": heartbeat\n\n")); err != nil || rc.Flush() != nil {
				return
			}
		}
	}
}

// streamStart reads where a stream starts: Last-Event-ID, else ?after=, else last.
func streamStart(r *http.Request, last int64) (int64, error) {
	for name := range r.URL.Query() {
		if name != "after" {
			return 0, badRequest(name, fmt.Sprintf("unknown parameter %q", name))
		}
	}
	field, s := "Last-Event-ID", r.Header.Get("Last-Event-ID")
	if s == "" {
		field, s = "after", r.URL.Query().Get("after")
	}
	if s == "" {
		return last, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return 0, badRequest(field, fmt.Sprintf("%q is not a sequence number", s))
	}
	return n, nil
}

// errNotFoundHere is the cause of 404s for ids of the early-warning endpoints.
var errNotFoundHere = errors.New("not found")
