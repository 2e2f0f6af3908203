-- Webhook subscriptions to the alert outbox and how far each one's delivery has gone
-- (store.Subscriptions). Delivery state, not evidence: the log never holds it.
CREATE TABLE subscriptions (
	id        TEXT PRIMARY KEY,
	identity  TEXT NOT NULL,              -- the agreement identity that subscribed
	url       TEXT NOT NULL,              -- where alerts are POSTed
	created   TEXT NOT NULL,              -- RFC 3339, UTC
	delivered INTEGER NOT NULL DEFAULT 0  -- sequence number of the last alert delivered
);
