package keyfile

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

func TestPassphrasePrecedence(t *testing.T) {
	const env = "SETPAY_TEST_KEYFILE_PASSPHRASE"
	never := func() ([]byte, error) { t.Fatal("prompted although a passphrase was given"); return nil, nil }
	prompt := func() ([]byte, error) { return []byte("from prompt"), nil }

	t.Setenv(env, "from env")
	if p, err := PassphraseFrom("from flag", env, never); err != nil || string(p) != "from flag" {
		t.Fatalf("flag and env: %q, %v", p, err)
	}
	if p, err := PassphraseFrom("", env, never); err != nil || string(p) != "from env" {
		t.Fatalf("env: %q, %v", p, err)
	}
	t.Setenv(env, "")
	if p, err := PassphraseFrom("", env, prompt); err != nil || string(p) != "from prompt" {
		t.Fatalf("empty env: %q, %v", p, err)
	}
	if p, err := PassphraseFrom("", "", prompt); err != nil || string(p) != "from prompt" {
		t.Fatalf("no env name: %q, %v", p, err)
	}
	if _, err := PassphraseFrom("", env, nil); !errors.Is(err, ErrNoPassphrase) || !strings.Contains(err.Error(), env) {
		t.Fatalf("nothing given: %v; want ErrNoPassphrase naming %s", err, env)
	}
	empty := func() ([]byte, error) { return nil, nil }
	if _, err := PassphraseFrom("", env, empty); !errors.Is(err, ErrEmptyPassphrase) {
		t.Fatalf("empty prompt: %v", err)
	}
	boom := errors.New("boom")
	if _, err := PassphraseFrom("", env, func() ([]byte, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("prompt error: %v", err)
	}
}

func TestReadPassphrase(t *testing.T) {
	r := strings.NewReader("s3cret\r\nnext line\n")
	p, err := ReadPassphrase(r)
	if err != nil || string(p) != "s3cret" {
		t.Fatalf("%q, %v", p, err)
	}
	if rest, _ := io.ReadAll(r); string(rest) != "next line\n" {
		t.Fatalf("read past the line: %q left", rest)
	}
	if p, err := ReadPassphrase(strings.NewReader("no newline")); err != nil || string(p) != "no newline" {
		t.Fatalf("at EOF: %q, %v", p, err)
	}
	if _, err := ReadPassphrase(strings.NewReader("\n")); !errors.Is(err, ErrEmptyPassphrase) {
		t.Fatalf("empty line: %v", err)
	}
	if _, err := ReadPassphrase(strings.NewReader("")); !errors.Is(err, ErrNoPassphrase) {
		t.Fatalf("no input: %v", err)
	}
	if _, err := ReadPassphrase(strings.NewReader(strings.Repeat("a", maxPassphrase+1) + "\n")); err == nil {
		t.Fatal("accepted an over-long passphrase")
	}
	if p, err := ReadPassphrase(strings.NewReader(strings.Repeat("a", maxPassphrase) + "\n")); err != nil || len(p) != maxPassphrase {
		t.Fatalf("longest passphrase: %d bytes, %v", len(p), err)
	}
}

func TestConfirmed(t *testing.T) {
	answers := func(a ...string) func() ([]byte, error) {
		return func() ([]byte, error) {
			s := a[0]
			a = a[1:]
			return []byte(s), nil
		}
	}
	seq := answers("one", "one")
	if p, err := Confirmed(seq, seq)(); err != nil || string(p) != "one" {
		t.Fatalf("matching: %q, %v", p, err)
	}
	seq = answers("one", "two")
	if _, err := Confirmed(seq, seq)(); !errors.Is(err, ErrPassphraseMismatch) {
		t.Fatalf("mismatch: %v", err)
	}
}

// TestTerminalPromptPipe: a pipe is not a terminal; the prompt reads a line
// from it as is and still shows the label.
func TestTerminalPromptPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := w.WriteString("piped secret\n"); err != nil {
		t.Fatal(err)
	}
	w.Close()
	var out bytes.Buffer
	p, err := TerminalPrompt(r, &out, "Passphrase: ")()
	if err != nil || string(p) != "piped secret" {
		t.Fatalf("%q, %v", p, err)
	}
	if out.String() != "Passphrase: \n" || strings.Contains(out.String(), "secret") {
		t.Fatalf("output %q", out.String())
	}
}
