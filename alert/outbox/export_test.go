package outbox

import "net/http"

// Take applies the offered entries that follow o, as Follow does.
func (o *Outbox) Take(chunk int) (bool, error) { return o.take(chunk) }

// WebhookClient is the default delivery client.
func WebhookClient(allowPrivate bool) *http.Client {
	return &http.Client{Transport: webhookTransport(allowPrivate)}
}

var PublicAddr = publicAddr
