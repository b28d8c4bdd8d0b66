package main

import (
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"setpay": func() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the CLI scenarios in testdata/*.txtar: what a user
// types and what they see.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata",
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// unhex IN OUT writes the bytes a hex text file spells, so
			// scripts can carry binary DER.
			"unhex": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 2 {
					ts.Fatalf("usage: unhex IN OUT")
				}
				b, err := hex.DecodeString(strings.Join(strings.Fields(ts.ReadFile(args[0])), ""))
				ts.Check(err)
				ts.Check(os.WriteFile(ts.MkAbs(args[1]), b, 0o644))
			},
			// waitfor ADDR waits, up to 30 seconds, until something accepts
			// TCP connections on ADDR: a service started in the background
			// is listening.
			"waitfor": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 1 || neg {
					ts.Fatalf("usage: waitfor host:port")
				}
				ts.Check(waitFor(args[0], 30*time.Second))
			},
			// cardexpiry VAR sets VAR to the expiry (YYYYMM) 'setpay bank
			// --seed' gives the demo's cards this month, so a script can
			// register a card the seeded bank knows.
			"cardexpiry": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 1 || neg {
					ts.Fatalf("usage: cardexpiry VAR")
				}
				ts.Setenv(args[0], time.Now().AddDate(3, 0, 0).Format("200601"))
			},
		},
	})
}

// waitFor dials addr until it connects or wait has passed.
func waitFor(addr string, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing listens on %s after %v: %w", addr, wait, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
