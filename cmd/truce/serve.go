package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/truce-mission/truce/keys"
	"github.com/truce-mission/truce/store"
	"github.com/truce-mission/truce/store/postgres"
	"github.com/truce-mission/truce/store/sqlite"
)

type serveCmd struct {
	Agreement string `required:"" help:"Agreement file: its identities may sign entries."`
	Data      string `help:"Data directory of the embedded store (SQLite)." default:"truce-data"`
	Store     string `help:"PostgreSQL URL (postgres://...) instead of the embedded store." env:"TRUCE_STORE"`
	Addr      string `help:"Listen address." default:"127.0.0.1:8080"`
	LogKey    string `name:"log-key" help:"The mission's private key file that signs checkpoints. Default: DATA/log.key, made on first start (embedded store only)."`
	Origin    string `help:"The log's origin line in checkpoints. Default: truce/<agreement id>."`
	// Off by default: see outbox.WebhookOptions.AllowPrivate.
	WebhookAllowPrivate bool `name:"webhook-allow-private" help:"Deliver webhooks to loopback, private and link-local addresses too (receivers on the mission's own network). Default: public addresses only."`
}

func (c *serveCmd) Help() string {
	return `Runs the mission's server until SIGINT or SIGTERM: the evidence log, the observation
intake checked against the agreement, the verification engine and its alerts. Every request
but the public ones is signed by an identity of the agreement (see docs/api.md).

  GET  /v1/log/checkpoint                    the latest signed checkpoint (C2SP signed note)
  GET  /v1/log/verifier                      the checkpoint verifier key (signed-note format)
  GET  /v1/log/entries?start=&end=           entries with their exact leaf bytes (leaf_input)
  GET  /v1/log/proofs/inclusion?index=&size= inclusion proof (also ?hash=LEAFHASH)
  GET  /v1/log/proofs/consistency?first=&second=
  POST /v1/log/entries                       append a signed entry; answers the receipt
  POST /v1/observations                      signed batches of observations (JSON, NDJSON, GeoJSON)
  GET  /v1/observations                      zone-tagged observations, filtered, paged
  GET  /v1/incidents, /v1/incidents/{id}     the engine's incidents, with evidence and explanation
  GET  /v1/alerts/{id}[.cap], /v1/alerts/stream
                                             CAP 1.2 alerts; Server-Sent Events with resume
  POST/GET/DELETE /v1/subscriptions          webhooks for alerts, signed by the mission key
  GET  /openapi.json, /healthz, /metrics

Example:
  truce serve --agreement examples/line-of-contact.yaml --data /var/lib/truce --addr :8080`
}

func (c *serveCmd) Run(s streams) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(s.err, nil))
	slog.SetDefault(logger)

	a, err := loadAgreement(c.Agreement)
	if err != nil {
		return err
	}
	st, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if c.Store == "" {
		// So that `truce replay --data` replays the log under the text it was served under.
		if err := recordAgreement(c.Data, c.Agreement, a.ID); err != nil {
			return fmt.Errorf("noting the agreement in %s: %w", c.Data, err)
		}
	}
	priv, err := c.logKey()
	if err != nil {
		return err
	}
	origin := c.Origin
	if origin == "" {
		origin = "truce/" + a.ID
	}
	n, err := startNode(ctx, a, st, origin, priv, logger, nodeOptions{allowPrivateWebhooks: c.WebhookAllowPrivate})
	if err != nil {
		return err
	}
	defer n.close()
	lg, vkey, followErr := n.log, n.verifierKey, n.followErr

	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           n.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	srv.RegisterOnShutdown(n.endStreams)
	logger.Info("serving", slog.String("addr", ln.Addr().String()), slog.String("origin", origin),
		slog.Int64("entries", lg.Size()), slog.String("verifier", vkey))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case err := <-followErr:
		if err != nil {
			return fmt.Errorf("following the log into the observation index: %w", err)
		}
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutCtx)
}

func (c *serveCmd) openStore(ctx context.Context) (store.Store, error) {
	if strings.HasPrefix(c.Store, "postgres://") || strings.HasPrefix(c.Store, "postgresql://") {
		return postgres.Open(ctx, c.Store)
	}
	if c.Store != "" {
		return nil, fmt.Errorf("--store %q: want a postgres:// URL, or leave it out for the embedded store in --data", c.Store)
	}
	if err := os.MkdirAll(c.Data, 0o700); err != nil {
		return nil, err
	}
	return sqlite.Open(c.Data)
}

// logKey loads the checkpoint signing key, or for the embedded store makes one in the data
// directory on first start, so a fresh `truce serve` works without ceremony.
func (c *serveCmd) logKey() (ed25519.PrivateKey, error) {
	if c.LogKey != "" {
		return keys.LoadPrivateKey(c.LogKey)
	}
	if c.Store != "" {
		return nil, errors.New("--log-key is required with --store: every API node must sign checkpoints with the same mission key")
	}
	path := filepath.Join(c.Data, "log.key")
	k, err := keys.LoadPrivateKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	_, k, err = ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, keys.FormatPrivateKey("mission-log", k), 0o600); err != nil {
		return nil, err
	}
	slog.Info("made a checkpoint signing key", slog.String("path", path))
	return k, nil
}
