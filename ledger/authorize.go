package ledger

import (
	"crypto/ed25519"
	"fmt"

	"github.com/truce-mission/truce/agreement"
)

// KeyFunc returns the ed25519 public key of an identity, and whether the identity exists.
type KeyFunc func(id string) (ed25519.PublicKey, bool)

// Authorizer decides whether the log accepts an entry from its submitter, before the entry
// is sequenced. It runs in the caller's goroutine, in parallel with other appends, so
// signature checks do not hold up the sequencer. A refusal should be a *[FieldError]
// wrapping [ErrUnknownIdentity] or [ErrBadSignature] (or a sentinel of the caller's).
type Authorizer func(e *Entry) error

// AgreementKeys returns the keys of the identities of a validated agreement.
func AgreementKeys(a *agreement.Agreement) KeyFunc {
	return func(id string) (ed25519.PublicKey, bool) {
		i, ok := a.Identity(id)
		if !ok {
			return nil, false
		}
		return i.Key, true
	}
}

// AuthorizeKeys returns an Authorizer that accepts an entry when its submitter is a known
// identity and its signature, of the entry alone or of its batch, verifies with that
// identity's key ([Verify], which checks a batch signature once for all its entries).
func AuthorizeKeys(keys KeyFunc) Authorizer {
	return func(e *Entry) error {
		pub, ok := keys(e.Submitter())
		if !ok {
			return fieldErr("submitter", ErrUnknownIdentity, fmt.Sprintf("unknown identity %q", e.Submitter()))
		}
		return Verify(e, pub)
	}
}

// AuthorizeAgreement is the default Authorizer: the submitter must be an identity of the
// agreement and the signature must verify with its key. It does not check that the
// identity's role may submit the entry's kind; wrap it to add such rules.
func AuthorizeAgreement(a *agreement.Agreement) Authorizer {
	return AuthorizeKeys(AgreementKeys(a))
}
