// aro-acmez: obtains one certificate through acmez's public API (the ACME
// library inside Caddy and certmagic, as Debian ships it: acmez 0.1.3, 2021),
// built against the patched copy that uses retry-options
// (draft-aro-acme-retry-options-01) when the server offers it. It is the third
// implementation of the extension in interop/run's matrix.
//
//	aro-acmez -directory URL -ca FILE -name NAME [-challenges http-01,tls-alpn-01,dns-01]
//	          [-http-port N] [-tls-port N] [-cts URL] [-out DIR]
//
// Solvers: http-01 and tls-alpn-01 listen on 127.0.0.1 (the ports given);
// dns-01 sets the TXT record through pebble-challtestsrv's management API.
// The last line of stdout is one JSON object: "result" ("issued" or
// "failed"), the newOrder requests it sent ("new_orders"), the retry offers acmez
// took ("offers_taken": the authorization's status, "pending" when held or
// "invalid" for a re-enable, and the challenge type), and the chain it stored
// ("chain": the subject of each certificate; "duplicates": certificates that
// appear more than once). Exit status 0 when issued, 2 otherwise.
package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mholt/acmez"
	"github.com/mholt/acmez/acme"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

type report struct {
	Result      string              `json:"result"`
	Error       string              `json:"error,omitempty"`
	Orders      int                 `json:"new_orders"`
	OffersTaken []map[string]string `json:"offers_taken"`
	Chain       []string            `json:"chain"`
	Duplicates  int                 `json:"duplicates"`
	Certificate string              `json:"certificate,omitempty"`
	Seconds     float64             `json:"seconds"`
}

// countingTransport counts the newOrder requests that reached the server.
type countingTransport struct {
	base     http.RoundTripper
	newOrder func() string
	mu       sync.Mutex
	orders   int
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err == nil && r.Method == http.MethodPost && r.URL.String() == t.newOrder() && resp.StatusCode == http.StatusCreated {
		t.mu.Lock()
		t.orders++
		t.mu.Unlock()
	}
	return resp, err
}

// http01Solver serves the key authorization on addr while a challenge is presented.
type http01Solver struct {
	addr string
	srv  *http.Server
}

func (s *http01Solver) Present(ctx context.Context, chal acme.Challenge) error {
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc(chal.HTTP01ResourcePath(), func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(chal.KeyAuthorization))
	})
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return nil
}

func (s *http01Solver) CleanUp(ctx context.Context, chal acme.Challenge) error {
	if s.srv == nil {
		return nil
	}
	err := s.srv.Close()
	s.srv = nil
	return err
}

// tlsalpn01Solver answers acme-tls/1 handshakes on addr (RFC 8737).
type tlsalpn01Solver struct {
	addr string
	ln   net.Listener
}

func (s *tlsalpn01Solver) Present(ctx context.Context, chal acme.Challenge) error {
	cert, err := acmez.TLSALPN01ChallengeCert(chal)
	if err != nil {
		return err
	}
	ln, err := tls.Listen("tcp", s.addr, &tls.Config{
		Certificates: []tls.Certificate{*cert},
		NextProtos:   []string{acmez.ACMETLS1Protocol},
	})
	if err != nil {
		return err
	}
	s.ln = ln
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
				_ = conn.(*tls.Conn).Handshake()
				conn.Close()
			}()
		}
	}()
	return nil
}

func (s *tlsalpn01Solver) CleanUp(ctx context.Context, chal acme.Challenge) error {
	if s.ln == nil {
		return nil
	}
	err := s.ln.Close()
	s.ln = nil
	return err
}

// dns01Solver sets the TXT record in pebble-challtestsrv.
type dns01Solver struct{ cts string }

func (s dns01Solver) post(path string, body map[string]string) error {
	b, _ := json.Marshal(body)
	resp, err := http.Post(s.cts+path, "application/json", bytes.NewReader(b))
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("challtestsrv %s: HTTP %d", path, resp.StatusCode)
	}
	return nil
}

func (s dns01Solver) Present(ctx context.Context, chal acme.Challenge) error {
	return s.post("/set-txt", map[string]string{"host": chal.DNS01TXTRecordName() + ".", "value": chal.DNS01KeyAuthorization()})
}

func (s dns01Solver) CleanUp(ctx context.Context, chal acme.Challenge) error {
	return s.post("/clear-txt", map[string]string{"host": chal.DNS01TXTRecordName() + "."})
}

func main() {
	directory := flag.String("directory", "", "ACME directory URL")
	caFile := flag.String("ca", "", "PEM file of the CA that signs the ACME server's HTTPS certificate")
	name := flag.String("name", "", "DNS name to obtain a certificate for")
	challenges := flag.String("challenges", "http-01,tls-alpn-01", "challenge types to solve, comma-separated")
	httpPort := flag.Int("http-port", 5002, "port of the http-01 solver (127.0.0.1)")
	tlsPort := flag.Int("tls-port", 5001, "port of the tls-alpn-01 solver (127.0.0.1)")
	cts := flag.String("cts", "", "pebble-challtestsrv management URL (dns-01)")
	out := flag.String("out", ".", "directory for chain.pem and key.pem")
	timeout := flag.Duration("timeout", 3*time.Minute, "give up after this long")
	flag.Parse()
	start := time.Now()
	rep := report{Result: "failed", OffersTaken: []map[string]string{}, Chain: []string{}}
	err := run(*directory, *caFile, *name, *challenges, *httpPort, *tlsPort, *cts, *out, *timeout, &rep)
	rep.Seconds = time.Since(start).Seconds()
	if err != nil {
		rep.Error = err.Error()
	} else {
		rep.Result = "issued"
	}
	b, _ := json.Marshal(rep)
	fmt.Println(string(b))
	if err != nil {
		os.Exit(2)
	}
}

func run(directory, caFile, name, challenges string, httpPort, tlsPort int, cts, out string,
	timeout time.Duration, rep *report) error {
	if directory == "" || caFile == "" || name == "" {
		return fmt.Errorf("-directory, -ca and -name are required")
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return fmt.Errorf("%s: no PEM certificate", caFile)
	}
	// acmez logs to stderr; its "taking the retry offer" entries are also observed
	observed, logs := observer.New(zapcore.InfoLevel)
	console := zapcore.NewCore(zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig()),
		zapcore.Lock(os.Stderr), zapcore.DebugLevel)
	logger := zap.New(zapcore.NewTee(console, observed))
	defer logger.Sync()

	client := &acmez.Client{
		Client: &acme.Client{
			Directory: directory,
			UserAgent: "aro-interop-acmez",
			Logger:    logger,
		},
		ChallengeSolvers: map[string]acmez.Solver{},
		Logger:           logger,
	}
	var dirNewOrder string
	transport := &countingTransport{
		base:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}},
		newOrder: func() string { return dirNewOrder },
	}
	client.Client.HTTPClient = &http.Client{Transport: transport, Timeout: 30 * time.Second}
	for _, ct := range strings.Split(challenges, ",") {
		switch ct {
		case acme.ChallengeTypeHTTP01:
			client.ChallengeSolvers[ct] = &http01Solver{addr: fmt.Sprintf("127.0.0.1:%d", httpPort)}
		case acme.ChallengeTypeTLSALPN01:
			client.ChallengeSolvers[ct] = &tlsalpn01Solver{addr: fmt.Sprintf("127.0.0.1:%d", tlsPort)}
		case acme.ChallengeTypeDNS01:
			if cts == "" {
				return fmt.Errorf("dns-01 needs -cts")
			}
			client.ChallengeSolvers[ct] = dns01Solver{cts: cts}
		default:
			return fmt.Errorf("unknown challenge type %q", ct)
		}
	}
	dir, err := client.GetDirectory(ctx)
	if err != nil {
		return fmt.Errorf("directory: %w", err)
	}
	dirNewOrder = dir.NewOrder

	accountKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	account, err := client.NewAccount(ctx, acme.Account{
		Contact:              []string{"mailto:interop@example.com"},
		TermsOfServiceAgreed: true,
		PrivateKey:           accountKey,
	})
	if err != nil {
		return fmt.Errorf("new account: %w", err)
	}
	certKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	chains, err := client.ObtainCertificate(ctx, account, certKey, []string{name})
	defer func() {
		rep.Orders = transport.orders
		for _, e := range logs.FilterMessage("taking the retry offer").All() {
			m := e.ContextMap()
			rep.OffersTaken = append(rep.OffersTaken, map[string]string{
				"status": fmt.Sprint(m["status"]), "type": fmt.Sprint(m["challenge_type"])})
		}
	}()
	if err != nil {
		return err
	}
	if len(chains) == 0 {
		return fmt.Errorf("no certificate chain")
	}
	return store(chains[0], certKey, out, rep)
}

// store writes the chain acmez assembled, as Caddy would store it, and
// reports its certificates.
func store(chain acme.Certificate, key *ecdsa.PrivateKey, out string, rep *report) error {
	if err := os.MkdirAll(out, 0o700); err != nil {
		return err
	}
	path := filepath.Join(out, "chain.pem")
	if err := os.WriteFile(path, chain.ChainPEM, 0o600); err != nil {
		return err
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "key.pem"),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return err
	}
	rep.Certificate = path
	seen := map[string]bool{}
	rest := chain.ChainPEM
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return fmt.Errorf("stored chain: %w", err)
		}
		rep.Chain = append(rep.Chain, c.Subject.String())
		if seen[string(block.Bytes)] {
			rep.Duplicates++
		}
		seen[string(block.Bytes)] = true
	}
	return nil
}
