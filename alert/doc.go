// Package alert turns the verification engine's findings into OASIS CAP 1.2 alerts (Common
// Alerting Protocol, namespace urn:oasis:names:tc:emergency:cap:1.2) for the early-warning
// system, and reads such alerts back.
//
// # Findings to alerts
//
// [FromFinding] maps one [Finding] (a plain struct: this package does not import the engine)
// to one [Alert]. The mapping is a pure function of its arguments, so replaying the ledger
// gives byte-identical alerts:
//   - identifier: [Identifier](sender, finding id, version), e.g. "inc-42-v3-e1d2ff0b4777845c";
//   - sent: the finding's log time (never the wall clock), in UTC, whole seconds;
//   - msgType: Alert for version 1, Update for later versions, Cancel for a withdrawn finding;
//     Update and Cancel carry references ("sender,identifier,sent" triples) to the earlier
//     alerts the caller passes;
//   - scope: Restricted to the addressed parties (with a restriction text), or Public;
//   - incidents: the finding id (for an escalation, the finding it is about: [Finding.About]);
//     code: [ProfileCode];
//   - one info in English, category Security, responseType Assess (AllClear for a Cancel),
//     the finding's urgency, severity, certainty, expiry, headline, description (followed by
//     the evidence's ledger indexes), instruction and the parameters [ParamFinding],
//     [ParamVersion], [ParamRule], [ParamZone] and [ParamEvidence];
//   - one area: its description, polygons ("lat,lon lat,lon …", latitude first, closed) and
//     circles ("lat,lon radius_km"), coordinates as given: a ring crossing the antimeridian is
//     neither split nor shifted.
//
// Status is always Actual; a drill sets [Alert.Status] to [StatusExercise] afterwards.
//
// # Encodings
//
// [Alert.XML] writes the CAP 1.2 XML, elements in the order the OASIS schema requires.
// [Alert.JSON] writes the same tree as JSON. CAP defines no JSON encoding; this one follows the
// common mapping: one object per element, keyed by the XML element names (lower camel case:
// "msgType", "areaDesc", …), arrays for every element the schema lets repeat (code, info,
// category, responseType, eventCode, parameter, resource, area, polygon, circle, geocode),
// strings for text, times and polygons as in the XML, numbers only for resource size, and
// optional elements left out when empty. For example:
//
//	{"identifier":"inc-42-v1-4cf206772ed07154","sender":"truce@mission.example",
//	 "sent":"2026-12-05T08:00:00+00:00","status":"Actual","msgType":"Alert","scope":"Restricted",
//	 "restriction":"…","addresses":"north south","code":["truce:1"],"incidents":"inc-42",
//	 "info":[{"language":"en","category":["Security"],"event":"…","responseType":["Assess"],…,
//	  "parameter":[{"valueName":"truce:finding","value":"inc-42"},…],
//	  "area":[{"areaDesc":"…","polygon":["33.2,35.1 33.2,35.3 33.35,35.3 33.35,35.1 33.2,35.1"]}]}]}
//
// [Parse] reads one XML alert back and checks it with [Alert.Validate].
//
// # Safety
//
// Parse refuses any DOCTYPE or other <!…> declaration ([ErrDTD]) instead of ignoring it,
// accepts only the five predefined entities, UTF-8, US-ASCII and ISO-8859-1, and at most
// [MaxBytes]. encoding/xml never fetches anything.
//
// # Limits
//
// Child elements are matched by local name, so Parse also accepts CAP elements written
// without the namespace or out of order (they are written back in order). XML signatures
// (xmldsig) and unknown elements are dropped. Validate checks what the OASIS schema checks plus
// the CAP 1.2 rules about identifiers, polygons, circles and scopes; [ValidateXSD] runs the
// schema itself through xmllint, for tests.
package alert
