package main

import (
	"context"
	"crypto/ed25519"
	"log/slog"
	"sync"
	"time"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/alert/outbox"
	"github.com/truce-mission/truce/api"
	"github.com/truce-mission/truce/ledger"
	"github.com/truce-mission/truce/obsindex"
	"github.com/truce-mission/truce/store"
)

// alerting is a node's early-warning side: the alert outbox, which follows the log through
// the verification engine, and webhook delivery of its alerts.
type alerting struct {
	outbox   *outbox.Outbox
	webhooks *outbox.Webhooks // nil when the store keeps no subscriptions
}

// startAlerts starts the outbox following lg from its first entry (restart is replay: the
// engine is deterministic, so the alerts and their sequence numbers come out the same) until
// ctx ends, its goroutines counted in wg. The API offers the outbox the entries it appends
// (see api.Config.Alerts), which the outbox takes without reading them back; it is woken
// whenever the observation index has consumed new entries, and polls every 250 ms
// otherwise, for what was not offered. When st keeps subscriptions, webhook deliveries start
// too, their bodies signed with the mission key priv.
func startAlerts(ctx context.Context, wg *sync.WaitGroup, a *agreement.Agreement, st store.Store, lg *ledger.Log, index *obsindex.Index, priv ed25519.PrivateKey, logger *slog.Logger, opts nodeOptions) (*alerting, error) {
	ob, err := outbox.New(a, outbox.Options{Logger: logger})
	if err != nil {
		return nil, err
	}
	poke := make(chan struct{}, 1)
	wg.Go(func() {
		for have := int64(0); ; have = index.Size() {
			if index.Wait(ctx, have+1) != nil {
				return
			}
			select {
			case poke <- struct{}{}:
			default:
			}
		}
	})
	wg.Go(func() {
		if err := outbox.Follow(ctx, lg, ob, poke, 250*time.Millisecond); err != nil && ctx.Err() == nil {
			logger.Error("the alert outbox stopped following the log", slog.Any("error", err))
		}
	})
	al := &alerting{outbox: ob}
	if subs, ok := st.(store.Subscriptions); ok {
		al.webhooks = outbox.NewWebhooks(ob, subs, outbox.WebhookOptions{Key: priv, AllowPrivate: opts.allowPrivateWebhooks, Logger: logger})
		wg.Go(func() {
			if err := al.webhooks.Run(ctx); err != nil && ctx.Err() == nil {
				logger.Error("webhook delivery stopped", slog.Any("error", err))
			}
		})
	}
	return al, nil
}

// configure adds the early-warning endpoints' parts to an API configuration.
func (al *alerting) configure(cfg api.Config) api.Config {
	cfg.Alerts, cfg.Webhooks = al.outbox, al.webhooks
	return cfg
}
