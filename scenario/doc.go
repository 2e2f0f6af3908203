// Package scenario runs scenario scripts: small line-based files that load an agreement,
// submit timed observations, notifications, reviews and ticks as signed entries of a real
// evidence log, feed the verification engine from that log, and check what it concluded.
// They are the engine's tests and, for the people who draft agreements, unit tests for
// treaty text: "would this text have caught that?".
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
package scenario
