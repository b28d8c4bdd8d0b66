package demo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"

	"github.com/setpay/setpay/ca"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/transport"
)

// The certificate authorities' names, as parties of the transcript and as
// folders of the data directory.
const (
	CCA = "cca"
	MCA = "mca"
	PCA = "pca"
)

// authorities are the three registration CAs' files.
type authorities struct {
	cca, mca, pca *party
}

func openAuthorities(dataDir string) (*authorities, error) {
	a := &authorities{}
	var err error
	if a.cca, err = openParty(filepath.Join(dataDir, CCA), CCA); err != nil {
		return nil, err
	}
	if a.mca, err = openParty(filepath.Join(dataDir, MCA), MCA); err != nil {
		a.cca.close()
		return nil, err
	}
	if a.pca, err = openParty(filepath.Join(dataDir, PCA), PCA); err != nil {
		a.cca.close()
		a.mca.close()
		return nil, err
	}
	return a, nil
}

func (a *authorities) close() error {
	return errors.Join(a.cca.close(), a.mca.close(), a.pca.close())
}

// register builds the CA hierarchy and the three CAs on their own
// databases, serves each on a loopback socket, and has the gateway, the
// merchant and every cardholder enrol over HTTP through tapped clients:
// the registration messages are the first of the run's transcript.
func register(ctx context.Context, n *network, as *authorities, accounts int, opts lab.Options) (*lab.Lab, error) {
	l, _, err := registerWith(ctx, n, as, accounts, opts, nil)
	return l, err
}

// registerWith is register with the cardholder CA deciding by policy (nil
// issues at once), returning the authorities too: the day's operator
// decides the requests they hold.
func registerWith(ctx context.Context, n *network, as *authorities, accounts int, opts lab.Options, policy ca.IssuerPolicy) (*lab.Lab, *lab.Authorities, error) {
	a, err := lab.NewAuthorities(opts, lab.AuthorityOptions{
		CCAStore: ca.NewSQLStore(as.cca.db, 0), MCAStore: ca.NewSQLStore(as.mca.db, 0), PCAStore: ca.NewSQLStore(as.pca.db, 0),
		CCALog: as.cca.log, MCALog: as.mca.log, PCALog: as.pca.log, CCAPolicy: policy,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("demo: building the certificate authorities: %w", err)
	}
	var rts lab.RoundTrippers
	for _, x := range []struct {
		name, client string
		serve        transport.ServeFunc
		p            *party
	}{
		{PCA, Gateway, a.PCA.Serve, as.pca},
		{MCA, Merchant, a.MCA.Serve, as.mca},
		{CCA, Wallet, a.CCA.Serve, as.cca},
	} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, nil, fmt.Errorf("demo: %s socket: %w", x.name, err)
		}
		n.servers = append(n.servers, startServer(ln, transport.Handler(x.serve, x.p.log), x.p.log))
		url := "http://" + ln.Addr().String() + "/"
		if n.caURLs == nil {
			n.caURLs = map[string]string{}
		}
		n.caURLs[x.name] = url
		c := n.client(url, x.client, x.name)
		switch x.name {
		case PCA:
			rts.PCA = c
		case MCA:
			rts.MCA = c
		case CCA:
			rts.CCA = c
		}
	}
	l, err := a.Register(ctx, rts)
	if err != nil {
		return nil, nil, fmt.Errorf("demo: registration: %w", err)
	}
	// Bank-account holders enrol after the cardholders, at the same CA.
	for j := range accounts {
		if _, err := a.RegisterAccountHolder(ctx, l, rts.CCA, msg.BankAccount{IBAN: lab.AccountIBAN(j)}); err != nil {
			return nil, nil, fmt.Errorf("demo: registration: %w", err)
		}
	}
	return l, a, nil
}

// checkRegistration checks the registration's messages: the gateway's and
// the merchant's two exchanges with their CAs, then three per cardholder,
// each straight between the wallet and the cardholder CA.
func checkRegistration(msgs []Message, cardholders int) error {
	want := []Message{
		{From: Gateway, To: PCA, Type: "Me-AqCInitReq"}, {From: PCA, To: Gateway, Type: "Me-AqCInitRes"},
		{From: Gateway, To: PCA, Type: "CertReq"}, {From: PCA, To: Gateway, Type: "CertRes"},
		{From: Merchant, To: MCA, Type: "Me-AqCInitReq"}, {From: MCA, To: Merchant, Type: "Me-AqCInitRes"},
		{From: Merchant, To: MCA, Type: "CertReq"}, {From: MCA, To: Merchant, Type: "CertRes"},
	}
	for range cardholders {
		want = append(want,
			Message{From: Wallet, To: CCA, Type: "CardCInitReq"}, Message{From: CCA, To: Wallet, Type: "CardCInitRes"},
			Message{From: Wallet, To: CCA, Type: "RegFormReq"}, Message{From: CCA, To: Wallet, Type: "RegFormRes"},
			Message{From: Wallet, To: CCA, Type: "CertReq"}, Message{From: CCA, To: Wallet, Type: "CertRes"})
	}
	if err := checkPath(msgs, want); err != nil {
		return fmt.Errorf("demo: registration messages: %w", err)
	}
	return nil
}
