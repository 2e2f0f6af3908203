package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/alert/outbox"
	"github.com/truce-mission/truce/store"
)

// SubscriptionRequest is the body of POST /v1/subscriptions.
type SubscriptionRequest struct {
	// URL receives the alerts: absolute http or https.
	URL string `json:"url"`
	// After is the sequence number delivery starts after; absent for the latest alert (only
	// alerts from now on), 0 for every alert from the start of the log.
	After *int64 `json:"after,omitempty"`
}

// Subscription is a webhook subscription as the API shows it.
type Subscription struct {
	ID        string    `json:"id"`
	Identity  string    `json:"identity"`
	URL       string    `json:"url"`
	Created   time.Time `json:"created"`
	Delivered int64     `json:"delivered"` // the sequence number of the last alert delivered
}

func subscriptionOf(s store.Subscription) Subscription {
	return Subscription{ID: s.ID, Identity: s.Identity, URL: s.URL, Created: s.Created, Delivered: s.Delivered}
}

// subscriptionError maps the webhook errors to statuses.
func subscriptionError(err error) error {
	switch {
	case errors.Is(err, outbox.ErrBadURL):
		return &httpError{status: http.StatusBadRequest, field: "url", msg: err.Error(), err: err}
	case errors.Is(err, outbox.ErrTooManyPerIdentity):
		return &httpError{status: http.StatusConflict, msg: err.Error(), err: err}
	case errors.Is(err, outbox.ErrNoSubscription):
		return &httpError{status: http.StatusNotFound, field: "id", msg: err.Error(), err: err}
	}
	return err
}

// subscriber authenticates a subscription request: an identity that may read alerts, on a
// server that delivers them.
func (h *alertHandlers) subscriber(r *http.Request, body []byte) (*agreement.Identity, error) {
	ident, err := h.reader(r, body, mayReadAlerts, "subscribe to alerts")
	if err == nil && h.hooks == nil {
		err = errNoOutbox
	}
	return ident, err
}

// subscribe answers POST /v1/subscriptions: the signing identity subscribes a webhook URL to
// the alerts it may see.
func (h *alertHandlers) subscribe(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		writeError(w, r, err)
		return
	}
	ident, err := h.subscriber(r, body)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var req SubscriptionRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, r, badRequest("", fmt.Sprintf("malformed JSON body: %v", err)))
		return
	}
	after := int64(-1)
	if req.After != nil {
		if *req.After < 0 {
			writeError(w, r, badRequest("after", "want a sequence number, 0 or more"))
			return
		}
		after = *req.After
	}
	s, err := h.hooks.Subscribe(r.Context(), ident, req.URL, after)
	if err != nil {
		writeError(w, r, subscriptionError(err))
		return
	}
	w.Header().Set("Location", "/v1/subscriptions/"+s.ID)
	writeJSON(w, http.StatusCreated, subscriptionOf(s))
}

// listSubscriptions answers GET /v1/subscriptions: the signing identity's subscriptions.
func (h *alertHandlers) listSubscriptions(w http.ResponseWriter, r *http.Request) {
	ident, err := h.subscriber(r, nil)
	if err != nil {
		writeError(w, r, err)
		return
	}
	subs, err := h.hooks.List(r.Context(), ident.ID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := struct {
		Subscriptions []Subscription `json:"subscriptions"`
	}{Subscriptions: make([]Subscription, len(subs))}
	for i, s := range subs {
		out.Subscriptions[i] = subscriptionOf(s)
	}
	writeJSON(w, http.StatusOK, out)
}

// unsubscribe answers DELETE /v1/subscriptions/{id}: 204, or 404 for an id that is not one
// of the signing identity's subscriptions.
func (h *alertHandlers) unsubscribe(w http.ResponseWriter, r *http.Request) {
	ident, err := h.subscriber(r, nil)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := h.hooks.Unsubscribe(r.Context(), ident.ID, r.PathValue("id")); err != nil {
		writeError(w, r, subscriptionError(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
