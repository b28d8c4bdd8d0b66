package msg

import (
	"errors"
	"fmt"
)

// ProtocolError is a rejection that a party answers with a SET Error
// message: it knows its ErrorCode and wraps the cause. Business declines
// (a card over its limit) are not ProtocolErrors; they travel as response
// codes inside the normal response.
type ProtocolError struct {
	Code ErrorCode
	Err  error
}

func (e *ProtocolError) Error() string { return e.Code.String() + ": " + e.Err.Error() }
func (e *ProtocolError) Unwrap() error { return e.Err }

// Errorf returns a *ProtocolError with code and a formatted cause (%w works).
func Errorf(code ErrorCode, format string, args ...any) error {
	return &ProtocolError{Code: code, Err: fmt.Errorf(format, args...)}
}

// CodeOf returns the ErrorCode err carries, unspecifiedFailure if none.
func CodeOf(err error) ErrorCode {
	if pe, ok := errors.AsType[*ProtocolError](err); ok {
		return pe.Code
	}
	return UnspecifiedFailure
}

// RemoteError is an Error message received from a peer.
type RemoteError struct {
	From string // who sent it, for the message text
	TBS  *ErrorTBS
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("%s answered with SET Error %s", e.From, e.TBS.ErrorCode)
}

// Classify keeps the code of an error that already carries one and gives
// any other error code, prefixing what failed.
func Classify(err error, code ErrorCode, what string) error {
	if _, ok := errors.AsType[*ProtocolError](err); ok {
		return fmt.Errorf("%s: %w", what, err)
	}
	return Errorf(code, "%s: %w", what, err)
}
