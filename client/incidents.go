package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/truce-mission/truce/alert/outbox"
	"github.com/truce-mission/truce/api"
)

// Incidents returns one page of GET /v1/incidents; query holds its filters (verdict, party,
// zone, category, since, until), limit and cursor. It needs [WithIdentity] with a role that
// may read incidents; a party liaison sees those addressed to its party.
func (c *Client) Incidents(ctx context.Context, query url.Values) (api.IncidentPage, error) {
	var page api.IncidentPage
	path := "/v1/incidents"
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	err := c.do(ctx, http.MethodGet, path, nil, &page)
	return page, err
}

// Incident returns GET /v1/incidents/{id}: the incident with its evidence by ledger index
// and the explanation of its verdict.
func (c *Client) Incident(ctx context.Context, id int64) (outbox.Incident, error) {
	var inc outbox.Incident
	err := c.do(ctx, http.MethodGet, "/v1/incidents/"+strconv.FormatInt(id, 10), nil, &inc)
	return inc, err
}
