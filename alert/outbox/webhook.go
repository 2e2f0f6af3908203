package outbox

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/store"
)

// The webhook wire format. Each delivery is one POST of a [Delivery] as JSON, with these
// headers; receivers check HeaderSignature against the mission's key ([VerifyWebhook]).
const (
	HeaderSignature    = "Truce-Webhook-Signature"    // "ed25519=" + standard base64 of the signature
	HeaderSeq          = "Truce-Alert-Seq"            // the delivery's sequence number, as in the body
	HeaderSubscription = "Truce-Webhook-Subscription" // the subscription id, as in the body
	// SignaturePrefix is prepended to the body before signing, so that a webhook signature
	// can never be taken for a signature of anything else the mission key signs (checkpoints).
	SignaturePrefix = "truce/webhook/v1\n"
)

// Defaults of [WebhookOptions].
const (
	DefaultMinBackoff = time.Second
	DefaultMaxBackoff = 5 * time.Minute
	DefaultTimeout    = 10 * time.Second
)

// Errors of the subscription calls, for the API to map to statuses.
var (
	ErrBadURL             = errors.New("bad webhook url")
	ErrNoSubscription     = errors.New("no such subscription")
	ErrTooManyPerIdentity = errors.New("too many subscriptions")
)

// MaxSubscriptionsPerIdentity bounds one identity's subscriptions.
const MaxSubscriptionsPerIdentity = 16

// Delivery is the body of a webhook POST: one alert, its place in the sequence and the
// subscription it is for. Alert is the CAP alert in its JSON rendering.
type Delivery struct {
	Subscription string          `json:"subscription"`
	Seq          int64           `json:"seq"`
	Alert        json.RawMessage `json:"alert"`
}

// WebhookOptions configure webhook delivery; zero fields take defaults.
type WebhookOptions struct {
	// Key is the mission's key that signs every body (the checkpoint key).
	Key ed25519.PrivateKey
	// Do sends a request; http.DefaultClient.Do with Timeout when nil.
	Do func(*http.Request) (*http.Response, error)
	// MinBackoff and MaxBackoff bound the wait before retry n (from 0): a uniformly random
	// duration in [0, min(MaxBackoff, MinBackoff×2ⁿ)] ("full jitter"), never less than
	// MinBackoff/2.
	MinBackoff, MaxBackoff time.Duration
	Timeout                time.Duration
	// AllowPrivate lets the default client deliver to loopback, private (RFC 1918, RFC 4193)
	// and link-local addresses. Off, a subscriber cannot make the mission's server probe its
	// own network or a cloud metadata service; on, for receivers on the mission's own LAN
	// and for tests.
	AllowPrivate bool
	Logger       *slog.Logger
	Now          func() time.Time
}

// Webhooks delivers the outbox's alerts to subscribed URLs: per subscription, in sequence
// order, one alert per POST, each retried with backoff until the receiver answers 2xx. The
// mark of the last delivered alert is stored after each success, so delivery resumes after a
// restart where it stopped; an alert delivered but not yet marked when the process stopped is
// delivered again (at least once: receivers drop repeated sequence numbers).
type Webhooks struct {
	ob   *Outbox
	st   store.Subscriptions
	opts WebhookOptions

	mu      sync.Mutex
	ctx     context.Context // set by Run
	stopped bool            // Run is waiting for the workers to end
	workers map[string]context.CancelFunc
	wg      sync.WaitGroup
}

// NewWebhooks returns the delivery of ob's alerts to the subscriptions in st. Nothing is
// sent until Run.
func NewWebhooks(ob *Outbox, st store.Subscriptions, opts WebhookOptions) *Webhooks {
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = DefaultMinBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Do == nil {
		c := &http.Client{Timeout: opts.Timeout, Transport: webhookTransport(opts.AllowPrivate)}
		opts.Do = c.Do
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Webhooks{ob: ob, st: st, opts: opts, workers: map[string]context.CancelFunc{}}
}

// Run starts a delivery worker per stored subscription (and per subscription made later) and
// returns when ctx ends and every worker has stopped.
func (w *Webhooks) Run(ctx context.Context) error {
	// From here on Subscribe starts its own worker; the stored ones start below, and a
	// subscription made meanwhile is found by both, started once (startLocked checks).
	w.mu.Lock()
	w.ctx = ctx
	w.mu.Unlock()
	subs, err := w.st.Subscriptions(ctx)
	if err != nil {
		return err
	}
	w.mu.Lock()
	for _, s := range subs {
		w.startLocked(s)
	}
	w.mu.Unlock()
	<-ctx.Done()
	w.mu.Lock()
	w.stopped = true // no worker starts after this
	w.mu.Unlock()
	w.wg.Wait()
	return nil
}

func (w *Webhooks) startLocked(s store.Subscription) {
	if w.ctx == nil || w.stopped || w.ctx.Err() != nil {
		return
	}
	if _, ok := w.workers[s.ID]; ok {
		return
	}
	ctx, cancel := context.WithCancel(w.ctx)
	w.workers[s.ID] = cancel
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		w.deliver(ctx, s)
	}()
}

// ErrPrivateAddress is a webhook delivery refused because the receiver's address is on the
// server's own side: see [WebhookOptions.AllowPrivate].
var ErrPrivateAddress = errors.New("webhook address is loopback, private or link-local")

// webhookTransport dials only public addresses unless allowPrivate. The check runs on the
// address actually dialled, after name resolution and on every redirect, so neither a DNS
// name that resolves to 127.0.0.1 nor a redirect to one gets through.
func webhookTransport(allowPrivate bool) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // a proxy would dial for us, past the check
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip, err := netip.ParseAddr(host)
			if err != nil {
				return fmt.Errorf("webhook dial %s: %w", address, err)
			}
			if !publicAddr(ip) {
				return fmt.Errorf("%w: %s", ErrPrivateAddress, address)
			}
			return nil
		}
	}
	tr.DialContext = d.DialContext
	return tr
}

// publicAddr reports whether ip is a routable unicast address outside the private ranges.
func publicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsGlobalUnicast() && !ip.IsPrivate() && !sharedAddressSpace.Contains(ip)
}

// sharedAddressSpace is RFC 6598's carrier-grade NAT range, private in practice.
var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")

// CheckURL checks a webhook URL: absolute http or https, with a host, no user info.
func CheckURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Errorf("%w: %q: %v", ErrBadURL, s, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%w: %q: want an http or https URL", ErrBadURL, s)
	case u.Host == "":
		return fmt.Errorf("%w: %q: no host", ErrBadURL, s)
	case u.User != nil:
		return fmt.Errorf("%w: %q: user info is not allowed", ErrBadURL, s)
	case len(s) > 2048:
		return fmt.Errorf("%w: longer than 2048 bytes", ErrBadURL)
	}
	return nil
}

// Subscribe stores a new subscription of identity id to webhook URL u and starts its
// delivery. Delivery starts after sequence number after, or after the latest alert when after
// is negative.
func (w *Webhooks) Subscribe(ctx context.Context, id *agreement.Identity, u string, after int64) (store.Subscription, error) {
	if err := CheckURL(u); err != nil {
		return store.Subscription{}, err
	}
	have, err := w.List(ctx, id.ID)
	if err != nil {
		return store.Subscription{}, err
	}
	if len(have) >= MaxSubscriptionsPerIdentity {
		return store.Subscription{}, fmt.Errorf("%w: identity %q has %d, the most allowed", ErrTooManyPerIdentity, id.ID, len(have))
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	if after < 0 {
		after = w.ob.Last()
	}
	s := store.Subscription{ID: "sub-" + hex.EncodeToString(b[:]), Identity: id.ID, URL: u,
		Created: w.opts.Now().UTC().Truncate(time.Microsecond), Delivered: after}
	if err := w.st.PutSubscription(ctx, s); err != nil {
		return store.Subscription{}, err
	}
	w.mu.Lock()
	w.startLocked(s)
	w.mu.Unlock()
	return s, nil
}

// List returns an identity's subscriptions.
func (w *Webhooks) List(ctx context.Context, identity string) ([]store.Subscription, error) {
	all, err := w.st.Subscriptions(ctx)
	if err != nil {
		return nil, err
	}
	out := []store.Subscription{}
	for _, s := range all {
		if s.Identity == identity {
			out = append(out, s)
		}
	}
	return out, nil
}

// Unsubscribe stops and deletes an identity's subscription.
func (w *Webhooks) Unsubscribe(ctx context.Context, identity, subID string) error {
	have, err := w.List(ctx, identity)
	if err != nil {
		return err
	}
	found := false
	for _, s := range have {
		found = found || s.ID == subID
	}
	if !found {
		return fmt.Errorf("%w: %q", ErrNoSubscription, subID)
	}
	w.mu.Lock()
	if cancel, ok := w.workers[subID]; ok {
		cancel()
		delete(w.workers, subID)
	}
	w.mu.Unlock()
	if err := w.st.DeleteSubscription(ctx, subID); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %q", ErrNoSubscription, subID)
	} else if err != nil {
		return err
	}
	return nil
}

// deliver is one subscription's worker.
func (w *Webhooks) deliver(ctx context.Context, s store.Subscription) {
	log := w.opts.Logger.With(slog.String("subscription", s.ID), slog.String("identity", s.Identity))
	id, ok := w.ob.Agreement().Identity(s.Identity)
	if !ok {
		log.Warn("webhook subscription of an identity the agreement no longer has: not delivering")
		return
	}
	next := s.Delivered
	for {
		changed := w.ob.Changed()
		evs := w.ob.Events(next, 256)
		if len(evs) == 0 {
			select {
			case <-ctx.Done():
				return
			case <-changed:
				continue
			}
		}
		for _, ev := range evs {
			if !ev.VisibleTo(id) {
				next = ev.Seq // not persisted: skipping again after a restart is cheap
				continue
			}
			if !w.post(ctx, log, s, ev) {
				return // ctx ended
			}
			next = ev.Seq
			for {
				err := w.st.SetDelivered(ctx, s.ID, next)
				if err == nil {
					break
				}
				if errors.Is(err, store.ErrNotFound) || ctx.Err() != nil {
					return // unsubscribed, or stopping
				}
				log.Error("storing the webhook delivery mark", slog.Int64("seq", next), slog.Any("error", err))
				if !sleep(ctx, w.opts.MinBackoff) {
					return
				}
			}
		}
	}
}

// post sends one event until the receiver takes it; false when ctx ended first.
func (w *Webhooks) post(ctx context.Context, log *slog.Logger, s store.Subscription, ev *Event) bool {
	body, err := json.Marshal(Delivery{Subscription: s.ID, Seq: ev.Seq, Alert: ev.JSON})
	if err != nil {
		panic(err) // ev.JSON is valid JSON made by alert.JSON
	}
	sig := SignWebhook(w.opts.Key, body)
	for attempt := 0; ; attempt++ {
		err := w.send(ctx, s, ev.Seq, body, sig)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		wait := Backoff(attempt, w.opts.MinBackoff, w.opts.MaxBackoff)
		log.Warn("webhook delivery failed; retrying", slog.Int64("seq", ev.Seq), slog.Int("attempt", attempt+1),
			slog.Duration("wait", wait), slog.Any("error", err))
		if !sleep(ctx, wait) {
			return false
		}
	}
}

func (w *Webhooks) send(ctx context.Context, s store.Subscription, seq int64, body []byte, sig string) error {
	ctx, cancel := context.WithTimeout(ctx, w.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "truce-webhook/1")
	req.Header.Set(HeaderSignature, sig)
	req.Header.Set(HeaderSeq, strconv.FormatInt(seq, 10))
	req.Header.Set(HeaderSubscription, s.ID)
	resp, err := w.opts.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("receiver answered %s", resp.Status)
	}
	return nil
}

// Backoff returns the wait before retry attempt (from 0): full jitter over an exponential
// ceiling, min(maxWait, minWait×2^attempt), and at least minWait/2.
func Backoff(attempt int, minWait, maxWait time.Duration) time.Duration {
	ceil := maxWait
	if attempt < 40 {
		ceil = min(maxWait, minWait<<attempt)
	}
	floor := minWait / 2
	if ceil <= floor {
		return floor
	}
	return floor + mrand.N(ceil-floor+1)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// SignWebhook returns the HeaderSignature value for body: "ed25519=" and the standard base64
// of the ed25519 signature by key over SignaturePrefix followed by the body's exact bytes.
func SignWebhook(key ed25519.PrivateKey, body []byte) string {
	msg := append([]byte(SignaturePrefix), body...)
	return "ed25519=" + base64.StdEncoding.EncodeToString(ed25519.Sign(key, msg))
}

// ErrWebhookSignature is returned by VerifyWebhook for a missing, malformed or wrong signature.
var ErrWebhookSignature = errors.New("webhook signature does not verify")

// VerifyWebhook checks a webhook body against its HeaderSignature value and the mission's
// public key (the key of the log's verifier key, GET /v1/log/verifier).
func VerifyWebhook(pub ed25519.PublicKey, body []byte, header string) error {
	b64, ok := strings.CutPrefix(header, "ed25519=")
	if !ok {
		return fmt.Errorf("%w: want \"ed25519=<base64>\"", ErrWebhookSignature)
	}
	sig, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("%w: malformed signature", ErrWebhookSignature)
	}
	if !ed25519.Verify(pub, append([]byte(SignaturePrefix), body...), sig) {
		return ErrWebhookSignature
	}
	return nil
}
