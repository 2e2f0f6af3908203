// Package scenario runs scenario scripts: small line-based files that load an agreement,
// submit timed observations, notifications, reviews, acknowledgements, hotline messages and
// ticks as signed entries of a real evidence log, feed the verification engine from that
// log, and check what it concluded. They are the engine's tests and, for the people who
// draft agreements, unit tests for treaty text: "would this text have caught that?".
//
// # Format
//
// One statement a line; blank lines and lines starting with '#' are ignored. Words are
// separated by spaces; a value with spaces is written in double quotes (note="two words").
//
//	agreement ../../examples/line-of-contact.yaml
//	keys ../../examples/keys
//
//	at D+5+8h observe monitor-1 tank id=o1 party=east count=2 at 36.40572,47.01571
//	at D+5+9h observe uav-gs-1 tank id=u1 party=east source=uav at 36.41,47.02
//	expect incident 1 rule=dmz-heavy verdict=infraction certainty=observed for=o1,u1
//
// agreement PATH loads the agreement (relative to the script's directory); it comes first.
// keys DIR names the directory of the identities' private keys, <identity>.key (default: the
// directory "keys" next to the agreement).
//
// Every step starts with "at TIME", the time at which it is submitted and received (the
// log's clock is set to it); times never go back. TIME is RFC 3339 (2026-12-05T08:00:00Z),
// or D-day relative: D+10 (midnight of day 10), D+10+8h30m, D-1+23h.
//
//	at TIME observe IDENTITY [CATEGORY] [key=value...] at LON,LAT[,ALT_M]
//
// submits an observation signed by IDENTITY. The position is longitude first, as in GeoJSON
// and the agreement. Keys: id (default o<line>), category, count, party (the assessed
// party), claimed (the claimed party), source (ground-monitor, uav, satellite, osint, ais,
// ads-b, party-report, partner-alert; default ground-monitor for a monitor, party-report for
// a party liaison, uav for a sensor), observed (its own TIME when it differs from the
// submission), reliability, credibility, mmsi, icao, text. The bare word absent marks
// counter-evidence: the observer saw none of the category there (engine's convention: the
// text starts with "absent").
//
//	at TIME notify IDENTITY [CATEGORY] count=N from=TIME until=TIME [zones=Z1,Z2] [area=LON,LAT,RADIUS_M] [id=ID] [party=P]
//
// submits a prior notification.
//
//	at TIME review IDENTITY confirm N [certainty=C] [note=TEXT]
//	at TIME review IDENTITY dismiss N [reason=TEXT]
//	at TIME review IDENTITY merge N M...
//	at TIME review IDENTITY split N OBS...
//
// submits an analyst's review of incident N. split moves the named observations (their id=,
// or #INDEX for a ledger index) into a new incident.
//
//	at TIME ack IDENTITY incident N [version=V] [note=TEXT]
//	at TIME ack IDENTITY warning N
//	at TIME ack IDENTITY message ID
//	at TIME ack IDENTITY alert IDENTIFIER
//
// submits an acknowledgement signed by a party liaison: of the alert of incident N's
// version V (default: its latest version so far), of warning N's alert, of a hotline
// message, or of an alert by its CAP identifier.
//
//	at TIME hotline IDENTITY [id=ID] [to=P1,P2] [incident=N] [warning=N] text=TEXT
//
// submits a hotline message (to defaults to every bound party other than the sender's).
//
//	at TIME tick [IDENTITY]
//
// moves the log's time on (signed by IDENTITY, default the agreement's first identity of the
// mission).
//
// # Expectations
//
// An expect line checks the engine's state after every step above it.
//
//	expect incident N [key=value...]     incident N exists and matches every key
//	expect no-incident [key=value...]    no incident (merged ones aside) matches every key
//	expect incidents COUNT [key=value...] exactly COUNT incidents (merged ones aside) match
//	expect overdue-review N              incident N's review is overdue
//	expect no-overdue-review [N]         no review (or N's) is overdue
//	expect overdue-withdrawal party=P zone=Z [rule=R]
//	expect no-overdue-withdrawal [party=P] [zone=Z] [rule=R]
//	expect ignored COUNT                 COUNT entries were ignored by the engine
//	expect track-event [KIND] [key=value...]     a kept track event matches
//	expect no-track-event [KIND] [key=value...]  none matches
//	expect track-events COUNT [key=value...]     exactly COUNT match
//	expect warning N [key=value...]      warning N exists and matches
//	expect no-warning [key=value...]     no warning matches
//	expect warnings COUNT [key=value...] exactly COUNT warnings match
//	expect escalation [key=value...]     an escalation matches
//	expect no-escalation [key=value...]  none matches
//	expect escalations COUNT [key=value...]
//	expect ack party=P (incident=N|warning=N|message=ID) status=S
//	expect party P [owed=N] [acknowledged=N] [late=N] [escalated=N] [pending=N]
//
// Track event keys: kind (enter, leave, dwell, dark), track (mmsi:N or icao:HEX), zone,
// incident. Warning keys: zone, count, party (an addressee), explains. Escalation keys: party,
// incident, warning, message, acknowledged (yes/no: acknowledged late or not). An ack
// expectation holds when one of the party's duties to acknowledge that subject has the
// status (pending, acknowledged, escalated, acknowledged-late, withdrawn); party checks a
// party's acknowledgement counts.
//
// Incident keys: rule (a rule it breaks), touches (a rule it matches, breached or not),
// zone, verdict (infraction, within-limit, notified, dismissed, merged), certainty
// (Observed, Likely, Possible, Unlikely, Unknown, any case), party, category, count,
// version, merged-into, reviewed (yes/no), for and against (observation ids that counted
// so, comma-separated), explains (a text the explanation contains) and covered-by (the
// notification id that explains it).
//
// # Results
//
// Run prints each expectation as "FILE:LINE: passed: …" or "FILE:LINE: FAILED: …: reason",
// and finally replays the whole log into a fresh engine and checks that it reaches the same
// state hash as the live run. Errors in the script itself are reported as FILE:LINE: message.
//
// With [Options.CapOut], every change becomes a CAP 1.2 alert: a finding's versions, an
// unusual-activity warning (to the parties its observations are attributed to), and an
// escalation of a missed acknowledgement (to the mediators: the guarantors, else the
// mission), which for an alert is an Update referencing the finding's alerts. The engine's
// finding ids are prefixed with the script's base name, so that scripts' alerts differ.
package scenario
