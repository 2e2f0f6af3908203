package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/api"
	"github.com/truce-mission/truce/ledger"
	"github.com/truce-mission/truce/obsindex"
	"github.com/truce-mission/truce/store"
)

// node is the API server's parts over one store: the log, the observation index that
// follows it, and the HTTP handler. truce serve runs one; truce bench ingest without
// --server runs one in-process.
type node struct {
	log         *ledger.Log
	index       *obsindex.Index
	alerts      *alerting
	handler     http.Handler
	verifierKey string
	// followErr receives Follow's result when it stops: nil once ctx ends, else why the
	// index could not follow the log.
	followErr <-chan error
	stop      context.CancelFunc // stops the node's goroutines
	// endStreams ends the open alert streams; give it to http.Server.RegisterOnShutdown.
	endStreams func()
	wg         *sync.WaitGroup // the node's goroutines: index, outbox, webhook delivery
}

// startNode opens the log in st (signing checkpoints as origin with priv), starts the
// observation index and the alert outbox following it until ctx ends or the node is
// closed, and builds the handler. The caller closes the node (close), then st.
// nodeOptions are the node's settings beyond its agreement, store and key.
type nodeOptions struct {
	allowPrivateWebhooks bool // see outbox.WebhookOptions.AllowPrivate
}

func startNode(ctx context.Context, a *agreement.Agreement, st store.Store, origin string, priv ed25519.PrivateKey, logger *slog.Logger, opts nodeOptions) (*node, error) {
	signer, err := ledger.NewNoteSigner(origin, priv)
	if err != nil {
		return nil, err
	}
	vkey, err := ledger.VerifierKey(origin, priv.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, err
	}
	lg, err := ledger.Open(ctx, st, ledger.Options{
		Origin: origin, Signer: signer, Authorize: ledger.AuthorizeAgreement(a), Logger: logger,
	})
	if err != nil {
		return nil, fmt.Errorf("opening the log: %w", err)
	}
	ctx, stop := context.WithCancel(ctx)
	wg := new(sync.WaitGroup)
	fail := func(err error) (*node, error) {
		stop()
		wg.Wait()
		lg.Close()
		return nil, err
	}
	// The observation index is a projection of the log: rebuilt by following it from the
	// start, then kept current (poked after each local intake, polled for other nodes').
	tagger, err := obsindex.NewTagger(a)
	if err != nil {
		return fail(err)
	}
	index := obsindex.New(a, tagger)
	poke := make(chan struct{}, 1)
	followErr := make(chan error, 1)
	wg.Go(func() {
		followErr <- obsindex.Follow(ctx, lg, index, poke, 250*time.Millisecond, logger)
	})
	al, err := startAlerts(ctx, wg, a, st, lg, index, priv, logger, opts) // serve_alerts.go
	if err != nil {
		return fail(err)
	}
	closing := make(chan struct{})
	h := api.New(al.configure(api.Config{
		Log: lg, VerifierKey: vkey, Agreement: a, Observations: index, Tagger: tagger, Closing: closing,
		Poke: func() {
			select {
			case poke <- struct{}{}:
			default:
			}
		},
	}))
	return &node{log: lg, index: index, alerts: al, handler: h, verifierKey: vkey, followErr: followErr, stop: stop, wg: wg,
		endStreams: sync.OnceFunc(func() { close(closing) })}, nil
}

// close stops the node's followers and webhook deliveries and waits for them, so that none
// reads the store after it, then stops the log's sequencer once every queued append is
// written. Stop the HTTP server first: a request in flight may still append.
func (n *node) close() error {
	n.stop()
	n.wg.Wait()
	return n.log.Close()
}
