package iso8583

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// MaxFrame is the largest message a 2-byte length prefix can describe.
const MaxFrame = 0xFFFF

// DefaultMaxFrame bounds what the client and server accept by default: far
// above any message of this subset (the longest is under 250 bytes) and far
// below what a hostile peer could make us allocate.
const DefaultMaxFrame = 2048

// FrameError reports a frame that cannot be read or written.
type FrameError struct{ Err error }

func (e *FrameError) Error() string { return "iso8583 frame: " + e.Err.Error() }
func (e *FrameError) Unwrap() error { return e.Err }

// WriteFrame writes msg preceded by its 2-byte big-endian length, in one
// Write so that concurrent writers serialized by the caller never
// interleave a header with another message's body.
func WriteFrame(w io.Writer, msg []byte) error {
	if len(msg) == 0 || len(msg) > MaxFrame {
		return &FrameError{fmt.Errorf("message length %d, want 1 to %d", len(msg), MaxFrame)}
	}
	b := make([]byte, 2, 2+len(msg))
	binary.BigEndian.PutUint16(b, uint16(len(msg)))
	b = append(b, msg...)
	_, err := w.Write(b)
	return err
}

// ReadFrame reads one frame and returns its message. A stream that ends
// cleanly before a frame starts returns io.EOF itself, so a reader can tell
// a peer that hung up from one that broke off mid-frame. A zero length, a
// length over maxLen (MaxFrame when maxLen is 0 or larger) and a frame
// cut short are errors.
func ReadFrame(r io.Reader, maxLen int) ([]byte, error) {
	if maxLen <= 0 || maxLen > MaxFrame {
		maxLen = MaxFrame
	}
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, &FrameError{fmt.Errorf("length prefix: %w", ErrTruncated)}
		}
		return nil, err
	}
	n := int(binary.BigEndian.Uint16(hdr[:]))
	if n == 0 || n > maxLen {
		return nil, &FrameError{fmt.Errorf("message length %d, want 1 to %d", n, maxLen)}
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, &FrameError{fmt.Errorf("message of %d bytes: %w", n, ErrTruncated)}
		}
		return nil, err
	}
	return b, nil
}
