package ledger

import "fmt"

// Kind is what an entry records. The zero Kind is not a kind: entries always name one.
type Kind int

// The kinds of entry. Their names, as written in leaves, are those of [Kind.String]; the
// numbers are not part of any format.
const (
	KindObservation     Kind = iota + 1 // one report of something seen
	KindNotification                    // a party's prior notification of a movement
	KindHotline                         // a hotline message between a party and the mission
	KindAcknowledgement                 // a party's acknowledgement of an alert or message
	KindVote                            // a council member's vote on a measure
	KindDispatch                        // a monitor team sent to an incident, or its arrival
	KindReview                          // an analyst's signed review of a finding
	KindNote                            // free text for the record
	KindTick                            // a clock tick: the log's time moves on
	KindAgreement                       // a version of the agreement, committed by its hash
)

var kindNames = [...]string{
	KindObservation:     "observation",
	KindNotification:    "notification",
	KindHotline:         "hotline",
	KindAcknowledgement: "acknowledgement",
	KindVote:            "vote",
	KindDispatch:        "dispatch",
	KindReview:          "review",
	KindNote:            "note",
	KindTick:            "tick",
	KindAgreement:       "agreement",
}

// Kinds lists every kind, in order.
func Kinds() []Kind {
	ks := make([]Kind, 0, len(kindNames)-1)
	for k := KindObservation; int(k) < len(kindNames); k++ {
		ks = append(ks, k)
	}
	return ks
}

// Valid reports whether k is one of the kinds above.
func (k Kind) Valid() bool { return k > 0 && int(k) < len(kindNames) }

// String returns the kind's name as written in leaves, or "Kind(n)" for an invalid kind.
func (k Kind) String() string {
	if k.Valid() {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// ParseKind parses a kind's name. An unknown name is an error wrapping [ErrMalformed].
func ParseKind(s string) (Kind, error) {
	for k := KindObservation; int(k) < len(kindNames); k++ {
		if kindNames[k] == s {
			return k, nil
		}
	}
	if len(s) > 32 {
		s = s[:32] + "…"
	}
	return 0, fieldErr("kind", ErrMalformed, fmt.Sprintf("unknown kind %q", s))
}

// MarshalText returns the kind's name; an invalid kind is an error.
func (k Kind) MarshalText() ([]byte, error) {
	if !k.Valid() {
		return nil, fieldErr("kind", ErrMalformed, fmt.Sprintf("invalid kind %d", int(k)))
	}
	return []byte(kindNames[k]), nil
}

// UnmarshalText parses a kind's name.
func (k *Kind) UnmarshalText(b []byte) (err error) {
	*k, err = ParseKind(string(b))
	return err
}
