-- Webhook subscriptions to the alert outbox and how far each one's delivery has gone
-- (store.Subscriptions). Delivery state, not evidence: the log never holds it.
CREATE TABLE subscriptions (
	id        text PRIMARY KEY,
	identity  text NOT NULL,              -- the agreement identity that subscribed
	url       text NOT NULL,              -- where alerts are POSTed
	created   timestamptz NOT NULL,
	delivered bigint NOT NULL DEFAULT 0   -- sequence number of the last alert delivered
);
