// Package outbox is the delivery side of early warning: it turns the verification engine's
// changes into CAP 1.2 alerts, keeps them in one ordered sequence, and delivers them to
// webhook subscribers. It runs outside the engine: the engine does no I/O, the outbox does.
//
// # The sequence
//
// An [Outbox] follows the evidence log ([Follow], from entry 0 on start: restart is replay)
// and applies each entry to its own engine.Engine. The node's intake hands it the entries it
// appends with their receipts ([Outbox.Offer]), so that Follow reads back from the log only
// what nobody offered; either way the engine sees every entry once, in log order, as the log
// stored it. Every change becomes one alert:
//   - a finding created, updated or cancelled: [Finding], with the engine's finding id
//     (Engine.IncidentFinding) and sender, addressed to Engine.Addressees;
//   - an unusual-activity warning: [WarningFinding], addressed to the warning's parties;
//   - an escalation (a party let an acknowledgement deadline pass): [EscalationFinding],
//     an Update of the missed finding addressed to the [Mediators].
//
// An Update or Cancel refers to every earlier alert of its finding. Alert identifiers are
// therefore those the engine expects acknowledgement entries to quote (Engine.AlertID).
// Each alert gets the next sequence number ([Event.Seq], from 1): the SSE event id and the
// webhook delivery mark. The engine is deterministic and the sequence is derived from the log
// alone, so a replay gives the same alerts, byte for byte, with the same numbers.
//
// # Who sees what
//
// Alerts are scope Restricted to the parties they address. [Visible] is the rule: monitors,
// analysts and council members see every alert; a party liaison sees those addressed to its
// party; every identity sees a Public alert (none are made yet: the agreement format has no
// setting for them).
//
// # Webhooks
//
// [Webhooks] delivers to stored subscriptions (store.Subscriptions): per subscription, in
// sequence order, one alert per POST of a [Delivery], signed with the mission key
// ([SignWebhook], [VerifyWebhook]: ed25519 over [SignaturePrefix] and the body), retried with
// exponential backoff and full jitter ([Backoff]) until the receiver answers 2xx, skipping the
// alerts the subscriber may not see. The last delivered sequence number is stored after each
// success, so delivery survives a restart; it is at least once: an alert taken by the receiver
// but not yet marked when the process stopped is sent again.
//
// # Limits
//
// Every alert stays in memory, as a replay rebuilds them; a very long log needs a snapshot of
// the engine and a window of alerts. Webhook URLs are not checked against internal addresses.
package outbox
