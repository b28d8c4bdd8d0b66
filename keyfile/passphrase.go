package keyfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

var (
	// ErrEmptyPassphrase refuses an empty passphrase: it would leave the
	// key readable by anyone who can read the file.
	ErrEmptyPassphrase = errors.New("keyfile: empty passphrase")
	// ErrNoPassphrase means no source gave a passphrase.
	ErrNoPassphrase = errors.New("keyfile: no passphrase given")
	// ErrPassphraseMismatch means the two entries of a new passphrase differ.
	ErrPassphraseMismatch = errors.New("keyfile: the passphrases do not match")
)

// maxPassphrase bounds a passphrase read from a terminal or pipe.
const maxPassphrase = 1024

// PassphraseFrom picks the passphrase from the first source that has one:
// flagValue (a command-line flag; convenient for tests and scripts, but
// visible to other local users in the process list), then the environment
// variable envName, then prompt (nil when there is no way to ask). An empty
// flag or variable counts as not given.
func PassphraseFrom(flagValue, envName string, prompt func() ([]byte, error)) ([]byte, error) {
	if flagValue != "" {
		return []byte(flagValue), nil
	}
	if envName != "" {
		if v := os.Getenv(envName); v != "" {
			return []byte(v), nil
		}
	}
	if prompt == nil {
		if envName != "" {
			return nil, fmt.Errorf("%w: set %s or run on a terminal", ErrNoPassphrase, envName)
		}
		return nil, ErrNoPassphrase
	}
	p, err := prompt()
	if err != nil {
		return nil, err
	}
	if len(p) == 0 {
		return nil, ErrEmptyPassphrase
	}
	return p, nil
}

// ReadPassphrase reads one line from r and returns it without its line
// ending. It reads a byte at a time so that nothing after the line is
// consumed (a script may pipe more than the passphrase).
func ReadPassphrase(r io.Reader) ([]byte, error) {
	var line []byte
	var c [1]byte
	for len(line) <= maxPassphrase {
		n, err := r.Read(c[:])
		if n == 1 {
			if c[0] == '\n' {
				return finishLine(line)
			}
			line = append(line, c[0])
			continue
		}
		if err == io.EOF {
			if len(line) == 0 {
				return nil, fmt.Errorf("%w: end of input", ErrNoPassphrase)
			}
			return finishLine(line)
		}
		if err != nil {
			clear(line)
			return nil, fmt.Errorf("keyfile: reading passphrase: %w", err)
		}
	}
	clear(line)
	return nil, fmt.Errorf("keyfile: passphrase longer than %d bytes", maxPassphrase)
}

func finishLine(line []byte) ([]byte, error) {
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) == 0 {
		return nil, ErrEmptyPassphrase
	}
	return line, nil
}

// TerminalPrompt returns a prompt for PassphraseFrom that writes label to
// out and reads a line from tty. When tty is a terminal, echo is turned
// off while the passphrase is typed (Linux and macOS; elsewhere a terminal
// is refused rather than shown the passphrase, and the environment variable
// must be used). When tty is not a terminal — a pipe in a script or test —
// the line is read as is.
func TerminalPrompt(tty *os.File, out io.Writer, label string) func() ([]byte, error) {
	return func() ([]byte, error) {
		restore, err := echoOff(tty)
		switch {
		case errors.Is(err, errNotTerminal):
			restore = func() error { return nil }
		case err != nil:
			return nil, err
		}
		// Echo is off before the label appears, so nothing typed after
		// the label is ever shown.
		fmt.Fprint(out, label)
		p, err := ReadPassphrase(tty)
		rerr := restore()
		fmt.Fprintln(out) // the user's Enter was not echoed
		if err != nil {
			return nil, err
		}
		if rerr != nil {
			clear(p)
			return nil, fmt.Errorf("keyfile: restoring terminal echo: %w", rerr)
		}
		return p, nil
	}
}

// Confirmed returns a prompt that asks twice, for a new passphrase, and
// fails with ErrPassphraseMismatch if the entries differ.
func Confirmed(prompt, again func() ([]byte, error)) func() ([]byte, error) {
	return func() ([]byte, error) {
		p, err := prompt()
		if err != nil {
			return nil, err
		}
		q, err := again()
		if err != nil {
			clear(p)
			return nil, err
		}
		defer clear(q)
		if !bytes.Equal(p, q) {
			clear(p)
			return nil, ErrPassphraseMismatch
		}
		return p, nil
	}
}
