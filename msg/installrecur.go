package msg

// InstallRecurData: the instalment or recurring-payment plan the cardholder
// agrees to inside the signed PIHead (and HODInput), which the merchant
// repeats in AuthReqPayload and the gateway carries in AuthTokenData. The
// Book 2 field list names InstallRecurDInd = < InstallTotalTrans,
// Recurring > and Recurring = { RecurringFrequency, RecurringExpiry };
// the ASN.1 is reconstructed (docs/spec-gaps.md, "InstallRecurData").
//
// The fields that carry it (PIHead, HODInput, AuthReqPayload,
// AuthTokenData) keep it as opaque octets holding this type's DER, so
// that the signed bytes are what is parsed; ParseInstallRecurData reads
// them.

import (
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"github.com/setpay/setpay/internal/der"
)

// Bounds of the plan (reconstructed; the spec's are not public). An
// instalment plan has at least two payments; a recurring one is at most
// yearly.
const (
	MinInstallTotalTrans  = 2
	MaxInstallTotalTrans  = 999
	MaxRecurringFrequency = 366 // days
)

// InstallRecurData is one payment plan:
//
//	InstallRecurData ::= SEQUENCE {
//	  installRecurInd InstallRecurInd,
//	  irExtensions    [2] MsgExtensions OPTIONAL }
//
//	InstallRecurInd ::= CHOICE {
//	  installTotalTrans [0] IMPLICIT INTEGER (2..999),
//	  recurring         [1] IMPLICIT Recurring }
//
//	Recurring ::= SEQUENCE {
//	  recurringFrequency INTEGER (1..366),   -- days between payments
//	  recurringExpiry    GeneralizedTime }   -- no payment after it
//
// Exactly one of InstallTotalTrans and Recurring is set.
type InstallRecurData struct {
	InstallTotalTrans int64      // instalments: how many payments in all; 0 when recurring
	Recurring         *Recurring // recurring payments; nil for instalments
	IRExtensions      MsgExtensions

	raw []byte
}

// Recurring is a recurring-payment plan.
type Recurring struct {
	RecurringFrequency int64 // days, at least, between two payments
	RecurringExpiry    time.Time
}

// Raw returns the bytes v was decoded from.
func (v *InstallRecurData) Raw() []byte { return v.raw }

// Frequency is the least time between two payments of a recurring plan
// (0 for instalments).
func (v *InstallRecurData) Frequency() time.Duration {
	if v.Recurring == nil {
		return 0
	}
	return time.Duration(v.Recurring.RecurringFrequency) * 24 * time.Hour
}

func (v *InstallRecurData) add(b *cryptobyte.Builder) {
	const typ = "InstallRecurData"
	addSequence(b, func(b *cryptobyte.Builder) {
		switch {
		case v.Recurring != nil && v.InstallTotalTrans != 0, v.Recurring == nil && v.InstallTotalTrans == 0:
			failf(b, typ, "installRecurInd", "exactly one of installTotalTrans and recurring must be set")
			return
		case v.Recurring == nil:
			if v.InstallTotalTrans < MinInstallTotalTrans || v.InstallTotalTrans > MaxInstallTotalTrans {
				failf(b, typ, "installTotalTrans", "value %d outside %d..%d", v.InstallTotalTrans, MinInstallTotalTrans, MaxInstallTotalTrans)
				return
			}
			addInt64(b, der.Implicit(0), v.InstallTotalTrans)
		default:
			r := v.Recurring
			if r.RecurringFrequency < 1 || r.RecurringFrequency > MaxRecurringFrequency {
				failf(b, typ, "recurringFrequency", "value %d outside 1..%d", r.RecurringFrequency, MaxRecurringFrequency)
				return
			}
			if r.RecurringExpiry.IsZero() {
				failf(b, typ, "recurringExpiry", "missing")
				return
			}
			der.AddElement(b, der.Explicit(1), func(b *cryptobyte.Builder) {
				addInt64(b, der.TagInteger, r.RecurringFrequency)
				addDate(b, r.RecurringExpiry)
			})
		}
		addOptionalExtensions(b, 2, v.IRExtensions)
	})
}

func (v *InstallRecurData) read(s *cryptobyte.String) error {
	const typ = "InstallRecurData"
	seq, raw, err := readSequenceAs(s, der.TagSequence, typ)
	if err != nil {
		return err
	}
	out := InstallRecurData{raw: raw}
	switch {
	case nextIs(seq, der.Implicit(0)):
		if out.InstallTotalTrans, err = readIntRange(&seq, der.Implicit(0), typ, "installTotalTrans", MinInstallTotalTrans, MaxInstallTotalTrans); err != nil {
			return err
		}
	case nextIs(seq, der.Explicit(1)):
		// [1] IMPLICIT SEQUENCE: constructed, context tag 1.
		r, _, err := readSequenceAs(&seq, der.Explicit(1), typ)
		if err != nil {
			return der.Wrap(typ, "recurring", err)
		}
		var rec Recurring
		if rec.RecurringFrequency, err = readIntRange(&r, der.TagInteger, typ, "recurringFrequency", 1, MaxRecurringFrequency); err != nil {
			return err
		}
		if rec.RecurringExpiry, err = readDate(&r, typ, "recurringExpiry"); err != nil {
			return err
		}
		if err := expectEnd(r, typ, "recurring"); err != nil {
			return err
		}
		out.Recurring = &rec
	default:
		return der.Errorf(typ, "installRecurInd", "neither installTotalTrans nor recurring: %w", der.ErrInvalid)
	}
	if out.IRExtensions, err = readOptionalExtensions(&seq, 2, typ, "irExtensions"); err != nil {
		return err
	}
	if err := expectEnd(seq, typ, ""); err != nil {
		return err
	}
	*v = out
	return nil
}

// Marshal returns the DER encoding of v.
func (v *InstallRecurData) Marshal() ([]byte, error) { return marshal(v.add) }

// UnmarshalInstallRecurData decodes an InstallRecurData, rejecting
// trailing bytes and non-DER encodings.
func UnmarshalInstallRecurData(b []byte) (*InstallRecurData, error) {
	return unmarshalNew[InstallRecurData](b, "InstallRecurData")
}

// ParseInstallRecurData decodes the contents of an opaque installRecurData
// field (PIHead, HODInput, AuthReqPayload, AuthTokenData): nil for an
// absent field, an error for one that is not an InstallRecurData.
func ParseInstallRecurData(field []byte) (*InstallRecurData, error) {
	if field == nil {
		return nil, nil
	}
	v, err := UnmarshalInstallRecurData(field)
	if err != nil {
		return nil, fmt.Errorf("installRecurData: %w", err)
	}
	return v, nil
}
