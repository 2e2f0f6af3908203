package api

import (
	"encoding/json"

	"github.com/truce-mission/truce/ingest"
)

// The headers of a signed observation batch (POST /v1/observations), beside the request
// signature headers of package reqauth (Truce-Identity is the batch's submitter).
const (
	// HeaderBatchSubmitted is the submission time of every entry of the batch, RFC 3339
	// with fractional seconds as needed, UTC.
	HeaderBatchSubmitted = "Truce-Batch-Submitted"
	// HeaderBatchSignature is the standard base64 of the submitter's ed25519 signature over
	// ledger.BatchSignedMessage(submitter, n, root), where root is ledger.BatchRoot of the
	// records' digests, each ledger.BatchDigest(ledger.KindObservation, submitter,
	// submitted, canonical record) with the record canonicalized by ledger.Canonicalize, in
	// body order.
	HeaderBatchSignature = "Truce-Batch-Signature"
)

// The content types POST /v1/observations takes.
const (
	ContentJSON    = "application/json"     // {"observations": [ {...}, ... ]}
	ContentNDJSON  = "application/x-ndjson" // one observation object per line
	ContentGeoJSON = "application/geo+json" // a FeatureCollection; each Feature one record
)

// MaxObservationsPerRequest bounds one batch.
const MaxObservationsPerRequest = 4096

// maxObservationsBody bounds the body of POST /v1/observations.
const maxObservationsBody = 8 << 20

// ObservationBatch is the JSON body of POST /v1/observations. Each element is one record,
// signed (as part of the batch) exactly as canonicalized: either an observation object
// (ingest.Observation's JSON) or, for GeoJSON, a Feature.
type ObservationBatch struct {
	Observations []json.RawMessage `json:"observations"`
}

// IntakeResponse answers POST /v1/observations: one result per record, in body order.
type IntakeResponse struct {
	Accepted   int            `json:"accepted"`   // appended now
	Duplicates int            `json:"duplicates"` // already in the log: the original receipt
	Refused    int            `json:"refused"`
	Results    []IntakeResult `json:"results"`
}

// IntakeResult is one record's outcome: a receipt, or an error.
type IntakeResult struct {
	Record    int          `json:"record"`          // 0-based position in the body
	ID        string       `json:"id,omitempty"`    // the observation's id, when it has one
	Index     *int64       `json:"index,omitempty"` // ledger entry index
	LeafHash  string       `json:"leaf_hash,omitempty"`
	Zones     []string     `json:"zones,omitempty"` // zone ids the position is in
	Rules     []string     `json:"rules,omitempty"` // rule ids it may breach at its time
	Duplicate bool         `json:"duplicate,omitempty"`
	Error     *RecordError `json:"error,omitempty"`
}

// RecordError says why one record was refused.
type RecordError struct {
	Field   string `json:"field"`   // JSON path in the body, e.g. "observations[3].position.lat"
	Reason  string `json:"reason"`  // invalid, unknown-category, unknown-party, conflict, ...
	Message string `json:"message"` // for people
}

// StoredObservation is one observation as GET /v1/observations returns it.
type StoredObservation struct {
	Index     int64              `json:"index"` // ledger entry index
	Submitter string             `json:"submitter"`
	Received  string             `json:"received"`
	Zones     []string           `json:"zones"`
	Rules     []string           `json:"rules"`
	Obs       ingest.Observation `json:"observation"`
}

// ObservationPage is a page of GET /v1/observations.
type ObservationPage struct {
	Observations []StoredObservation `json:"observations"`
	// Next is the cursor of the next page; empty on the last.
	Next string `json:"next,omitempty"`
}
