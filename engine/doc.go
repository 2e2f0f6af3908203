// Package engine is the verification engine: a deterministic state machine over an agreement
// and the entries of the evidence log. It matches each observation against the rules in
// force at its observed time, fuses observations of the same event into incidents, weighs
// corroboration, prior notifications and counter-evidence into a verdict on CAP's certainty
// scale, and explains every verdict by the ledger indexes of its evidence.
//
// The engine does no I/O and never reads the wall clock: its time is the log's time, the
// latest receipt time of the entries applied (or the time of a tick entry), and each
// observation is judged at its own observed time. The same entries applied in the same order
// always give the same [State] and the same [Engine.StateHash]; restart is replay.
//
// [Engine.Apply] returns the [Change]s an entry caused (an incident became a finding, changed,
// or stopped being one), each with the incident's new version, so that alerts (CAP) are made
// outside the engine.
//
// # Fusion
//
// An observation joins an existing incident when it reports the same track (AIS MMSI or
// ADS-B ICAO address) within [DefaultFuseWindow] of one of the incident's observations, or
// when it reports a related category (one covers the other) of a compatible party (the same,
// or one of them unknown) within [DefaultFuseDistanceM] metres and [DefaultFuseWindow] of one
// of the incident's observations. The agreement format has no fusion settings yet, so these
// are constants; [Options] overrides them. Among several candidates the lowest incident id
// wins. An observation that matches a rule and joins no incident opens a new one; one that
// matches no rule only ever corroborates (or disputes) an existing incident.
//
// # Rule matching
//
// Each observation is located (zones, stand-off distances, altitude bands) at its observed
// time, with the rules then in force; a stand-off rule that takes effect at D+14 does not
// match on D+10. Prohibition, stand-off and confinement rules are broken by any matching
// observation. A ceiling is broken when the incident's count exceeds the rule's maximum: the
// count is the largest, over the sources, of one source's counts summed (one source's
// sightings of distinct groups add up; two sources reporting the same group do not). An
// incident whose only rules are ceilings not exceeded has the verdict within-limit and is not
// a finding. An observation without a count counts 1.
//
// # Certainty
//
//   - Observed: a mission monitor's own ground observation (an identity with role monitor
//     reporting with source ground-monitor).
//   - Likely: independent corroboration. Each distinct submitter that is not interested (its
//     identity does not speak for a party bound by the agreement, and the source is not a
//     party report) scores 1, or 0.5 when an earlier independent submitter already used the
//     same sensor kind; interested submitters together score at most 0.5. A score of 1.5 or
//     more is Likely: two independent submitters, or one independent submitter and a party's
//     report.
//   - Possible: anything less, such as a single interested source.
//   - Unlikely: disputed. Counter-evidence from a source that is not interested, observed no
//     earlier than the latest independent supporting observation, disputes an incident that
//     is not Observed. Counter-evidence from an interested source is recorded but disputes
//     nothing, and a mission monitor's own sighting is not undone by a later empty spot.
//
// An analyst's confirm review may set the certainty explicitly.
//
// # Payload conventions
//
// Observation entries carry an observation object or a GeoJSON Feature (see
// feeds.DecodeRecord). Counter-evidence is an observation whose text starts with the word
// "absent" (e.g. "absent: position empty, track marks only"): the observer looked at that
// position at that time and saw none of the category. It joins the incident it is near and
// counts against it; it never opens an incident.
//
// A notification entry (a prior notification) carries
//
//	{"id":"n1","party":"east","category":"tank","count":10,
//	 "from":"2026-12-10T06:00:00Z","until":"2026-12-10T18:00:00Z",
//	 "zones":["dmz"],"area":{"center":[36.4,47.0],"radius_m":5000}}
//
// party defaults to the submitter's party; zones and area are optional (both absent: anywhere;
// both present: either). It must come from a party-liaison identity of that party. It covers
// (explains) a breached rule of an incident when the incident's party is its party, its
// category covers every supporting observation's category, its count is at least the
// incident's count, every supporting observation lies in its area and in [from, until), and
// it was received at least the agreement's lead time before from (the longest lead time of
// the prior-notice obligations on the category and party; none when no obligation applies).
// An incident whose breached rules are all covered has the verdict notified. A late or
// insufficient notification is listed in the explanation with why it did not cover.
//
// A review entry, from an analyst identity, carries one of
//
//	{"action":"confirm","incident":3,"certainty":"observed","note":"…"}   (certainty optional)
//	{"action":"dismiss","incident":3,"reason":"…"}
//	{"action":"merge","incidents":[3,5]}                 (into the lowest id)
//	{"action":"split","incident":3,"entries":[17,18]}    (ledger indexes of observations)
//
// Confirm and dismiss complete the incident's review; merge and split do not. An automatic
// finding is due for review by the agreement's review deadline after it was opened
// ([DefaultReviewDeadline] when the agreement sets none); [State] lists the findings whose
// review is overdue at the log's time.
//
// A tick entry carries {"time":"2026-12-06T00:00:00Z"} and moves the log's time on.
//
// Entries the engine cannot use (a malformed payload, a review by a non-analyst, an unknown
// incident) change nothing but are listed in [State] with the reason.
//
// # Limits
//
// Track events (entering, leaving, dwelling, going dark), unusual-activity baselines,
// acknowledgement and hotline deadlines, and the sanctions matrix are not handled yet.
// Counter-evidence that arrives before the incident it would dispute is not kept.
package engine
