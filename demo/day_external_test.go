package demo_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/setpay/setpay/bank"
	"github.com/setpay/setpay/demo"
	"github.com/setpay/setpay/suite"
)

// startBank serves a bank as 'setpay bank' does and returns its address.
func startBank(t *testing.T, s *demo.BankSeed) string {
	_, _, addr := demo.ServeTestBank(t, s)
	return addr
}

// TestDayExternalBank runs the day against a bank the demo does not own,
// seeded as 'setpay bank --seed' seeds one: every step, the settlement and
// the books come out as they do with the bank in process, read over the
// ISO 8583 link. set1's day is slow; it runs without -short.
func TestDayExternalBank(t *testing.T) {
	ids := []suite.ID{suite.Modern}
	if !testing.Short() {
		ids = append(ids, suite.Set1)
	}
	for _, id := range ids {
		t.Run(string(id), func(t *testing.T) {
			seed := demo.Seed(demo.DayCardholders+1, 0)
			addr := startBank(t, &seed)
			dir := t.TempDir()
			r := &run{data: filepath.Join(dir, "data"), out: filepath.Join(dir, "out")}
			var buf bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			rep, err := demo.Run(ctx, demo.Options{Suite: id, DataDir: r.data, OutDir: r.out, IssuerAddr: addr}, &buf)
			r.rep, r.transcript = rep, buf.String()
			if err != nil {
				t.Fatalf("demo.Run: %v\n%s", err, r.transcript)
			}
			if rep.Day == nil || rep.BankDir != "" {
				t.Fatalf("not the day against an external bank (bank dir %q):\n%s", rep.BankDir, r.transcript)
			}
			plan := planFor(id)
			t.Run("steps", func(t *testing.T) { checkDaySteps(t, r, plan) })
			t.Run("settlement", func(t *testing.T) { checkSettlement(t, r, plan) })
			t.Run("ledger", func(t *testing.T) { checkDayLedger(t, r, plan) })
			t.Run("transcript", func(t *testing.T) { checkDayTranscript(t, r, plan) })
			t.Run("confidentiality", func(t *testing.T) { checkDayConfidentiality(t, r) })
			if want := "run by the bank at " + addr + " on its own books"; !strings.Contains(r.transcript, want) {
				t.Errorf("the transcript does not say where the audit ran (%q)", want)
			}
		})
	}
}

// TestDayBankNotSeeded: a bank without the day's accounts stops the day
// before its first step, saying how to seed it; a bank that is not there
// stops the run before any party enrols.
func TestDayBankNotSeeded(t *testing.T) {
	addr := startBank(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var buf bytes.Buffer
	rep, err := demo.Run(ctx, demo.Options{IssuerAddr: addr, DataDir: t.TempDir()}, &buf)
	var oe *demo.OfficeError
	if !errors.As(err, &oe) || oe.Code != string(bank.InvalidMerchant) || !strings.Contains(err.Error(), "setpay bank --seed") {
		t.Fatalf("unseeded bank: %v, want the bank's 03 and how to seed it", err)
	}
	if rep.Day == nil || len(rep.Day.Steps) != 0 {
		t.Errorf("the day ran steps against an unseeded bank: %+v", rep.Day)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := ln.Addr().String()
	ln.Close()
	buf.Reset()
	rep, err = demo.Run(ctx, demo.Options{IssuerAddr: gone, DataDir: t.TempDir()}, &buf)
	if err == nil || !strings.Contains(err.Error(), "does not answer") || !strings.Contains(err.Error(), "setpay bank --seed") {
		t.Fatalf("no bank: %v", err)
	}
	if rep.Registrations != 0 {
		t.Errorf("%d registration messages before the bank was found missing", rep.Registrations)
	}
}
