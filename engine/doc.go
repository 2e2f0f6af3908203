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
// or stopped being one, each with the incident's new version; an unusual-activity warning was
// raised; an acknowledgement deadline passed), so that alerts (CAP) are made outside the
// engine. The engine names those alerts as package alert does ([AlertIdentifier],
// [Engine.IncidentFinding], [Engine.WarningFinding], [Engine.Sender]), so that it can tell
// which alert an acknowledgement acknowledges.
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
// sightings of distinct groups add up; two sources reporting the same group do not). The
// reports of one track (an AIS or ADS-B transponder) are one vessel or aircraft seen again:
// a source's track adds its largest count once. An incident whose only rules are ceilings not
// exceeded has the verdict within-limit and is not a finding. An observation without a count
// counts 1.
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
// # Tracks
//
// Observations that carry a track id (AIS MMSI or ADS-B ICAO address) form tracks, keyed
// "mmsi:N" or "icao:HEX". The engine keeps each track's latest position (by observed time; an
// older position still counts for the rules but does not move the track back) and the area
// zones it is in (line zones aside), and records events in [State]:
//
//   - enter: a position inside a zone the previous position was not in (or the track's first
//     position, or the first after going dark);
//   - leave: a position outside a zone the previous one was in;
//   - dwell: a position still inside a zone more than [DefaultDwell] (2 h, the fusion window:
//     beyond it a stay is a presence, not one passing event) after the stay's first
//     position; once per stay;
//   - dark: no position for more than [DefaultDarkGap] (30 min: ten missed AIS at-anchor
//     reports) after the latest position, which was inside a zone. It is found as the log's
//     time passes the gap (any later entry or a tick), once per silence, one event per zone.
//     The gap counts from the position's observed time, or from when the log received it if
//     later, so that a backlog of old positions replayed in a burst is not dark between two
//     of its entries.
//
// [State] keeps the newest [DefaultTrackEventsKept] events and counts them all. Entering
// and leaving are facts about movement; whether the position breaks a rule is the rule
// matching's business, so an enter event of a ship whose position breaks a rule names the
// incident that position joined. Dwell and dark events in a zone of the track's incident are
// added to that incident's evidence (kind track, counted none): they do not change its
// certainty, but they aggravate the finding, so they make a new version (an Update alert).
//
// # Unusual activity
//
// Military observations (any agreement category but civilian traffic, or one an adapter
// marked military; counter-evidence aside) are counted per area zone they lie in, in buckets
// of [DefaultActivityBucket] (6 h) aligned on D-day midnight, by observed time. When an
// observation brings its bucket's count to at least
//
//	max(min count, factor × mean, mean + sigmas × sd)
//
// where mean and sd (population standard deviation) are over the previous buckets, at most
// [DefaultActivityBuckets] (28, a week) and at least [DefaultActivityMinHistory] (4, a day)
// of them counting from the bucket of the log's earliest observation, the engine raises a
// [Warning] for the zone and bucket (once per pair), with a [ChangeWarning]. The defaults are
// a min count of 10, a factor of 3 and 3 sigmas; [Options] overrides them. The warning
// explains the count, the parties, the baseline and the threshold, and names the bucket's
// observations; no rule need be broken. Its alert is addressed to the bound parties its
// observations are attributed to (else every bound party). An observation older than the
// kept buckets is not counted.
//
// # Acknowledgements and the hotline
//
// Every alert the engine's changes make (a finding's created or updated version, a warning)
// is owed an acknowledgement by each party it is addressed to ([Engine.Addressees]: the party
// an incident is attributed to when it is bound by the agreement, else every bound party),
// within the agreement's alert acknowledgement deadline after the change's log time. A
// party owes at most one acknowledgement per finding at a time: a later version sent while
// one is owed joins it (acknowledging it settles both) and the first deadline stands. A
// cancelled finding withdraws what is owed on it and not yet escalated.
//
// A hotline message addressed to a bound party (other than the sender's) is owed an
// acknowledgement within the agreement's hotline deadline. Messages to the mission or a
// guarantor owe nothing.
//
// When the log's time passes a deadline (strictly after it) with nothing acknowledged, the
// duty is escalated: a [ChangeEscalated] names the party, the alert or message and its
// version, so that the mediators get an alert, and [State] lists the [Escalation] and counts
// it against the party ([PartyRecord]). An acknowledgement that comes after is recorded as
// late; the escalation stays on the record. An agreement without a deadline owes
// acknowledgements but escalates nothing.
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
// Only notifications whose window comes within [DefaultFuseWindow] of the incident's
// observations are weighed at all: one for another week neither covers nor is listed.
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
// An acknowledgement entry, from a party-liaison identity, carries one of
//
//	{"alert":"incident-3-v2-1f0c…","note":"…"}   (a CAP identifier, see [Engine.AlertID])
//	{"message":"h1"}                               (a hotline message id)
//
// and acknowledges for the liaison's party. Acknowledging an alert the party was not
// addressed, or one already acknowledged, changes nothing.
//
// A hotline entry, from any identity of the agreement, carries
//
//	{"id":"h1","to":["east"],"text":"Explain the movements near the crossing","warning":2}
//
// id defaults to "hotline-<ledger index>" and must not repeat; to defaults to every bound
// party other than the sender's; incident and warning optionally say what it is about.
//
// A tick entry carries {"time":"2026-12-06T00:00:00Z"} and moves the log's time on.
//
// Entries the engine cannot use (a malformed payload, a review by a non-analyst, an unknown
// incident) change nothing but are listed in [State] with the reason.
//
// # Limits
//
// The sanctions matrix is not handled yet. Counter-evidence that arrives before the incident
// it would dispute is not kept. Unusual activity is counted inside zones only: "near" a zone
// means inside a wider zone around it (such as a notification band), and nested zones each
// raise their own warning. A track's zones are those of its reported positions: a track is
// not interpolated between positions, so a crossing between two positions is seen as an
// enter or leave at the later one. A party's reply on the hotline does not count as an
// acknowledgement; only an acknowledgement entry does.
package engine
