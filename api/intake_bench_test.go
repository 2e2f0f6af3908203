package api_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/api"
	"github.com/truce-mission/truce/keys"
	"github.com/truce-mission/truce/ledger"
	"github.com/truce-mission/truce/obsindex"
	"github.com/truce-mission/truce/reqauth"
	"github.com/truce-mission/truce/store/sqlite"
)

// BenchmarkIntake posts signed NDJSON batches of new observations to the intake handler
// (called directly, no network), wired as truce serve wires it: the example agreement's zones,
// a SQLite store with its fsync per commit, the observation index following the log. One
// iteration is one request; obs/s is records accepted per second of the timed part (building
// and signing the batches is not timed). With -cpuprofile it shows where the server's time
// goes:
//
//	go test -run XXX -bench Intake -benchtime 200x -cpuprofile cpu.prof ./api/
func BenchmarkIntake(b *testing.B) {
	for _, batch := range []int{100, 500} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) { benchIntake(b, batch) })
	}
}

func benchIntake(b *testing.B, batch int) {
	a, err := agreement.LoadFile("../examples/line-of-contact.yaml")
	if err != nil {
		b.Fatal(err)
	}
	priv, err := keys.LoadPrivateKey("../examples/keys/monitor-1.key")
	if err != nil {
		b.Fatal(err)
	}
	st, err := sqlite.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	_, mission, _ := ed25519.GenerateKey(nil)
	signer, _ := ledger.NewNoteSigner("truce/bench", mission)
	lg, err := ledger.Open(b.Context(), st, ledger.Options{
		Origin: "truce/bench", Signer: signer, Authorize: ledger.AuthorizeAgreement(a),
	})
	if err != nil {
		b.Fatal(err)
	}
	defer lg.Close()
	tagger, err := obsindex.NewTagger(a)
	if err != nil {
		b.Fatal(err)
	}
	index := obsindex.New(a, tagger)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	poke := make(chan struct{}, 1)
	go func() { _ = obsindex.Follow(ctx, lg, index, poke, 250*time.Millisecond, nil) }()
	h := api.New(api.Config{Log: lg, Agreement: a, Observations: index, Tagger: tagger, Poke: func() {
		select {
		case poke <- struct{}{}:
		default:
		}
	}})

	accepted, n := 0, 0
	for b.Loop() {
		b.StopTimer()
		req := intakeRequest(b, priv, n, batch)
		n++
		b.StartTimer()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %.300s", rec.Code, rec.Body.String())
		}
		accepted += batch
	}
	b.ReportMetric(float64(accepted)/b.Elapsed().Seconds(), "obs/s")
}

// intakeRequest is request k: batch new observations spread over the example's area, signed
// as monitor-1.
func intakeRequest(b *testing.B, priv ed25519.PrivateKey, k, batch int) *http.Request {
	submitted := time.Now().UTC().Truncate(time.Millisecond)
	digests := make([]tlog.Hash, batch)
	var body []byte
	for i := range batch {
		j := k*batch + i
		rec := fmt.Appendf(nil, `{"id":"b-%d","observed":%q,"position":{"lon":%.6f,"lat":%.6f},"category":"tank","count":2,"source":"ground-monitor","reliability":"B","credibility":2}`,
			j, submitted.Add(-time.Minute).Format(time.RFC3339Nano), 33+float64(j%9973)/1000, 46+float64(j%7919)/2000)
		canon, err := ledger.Canonicalize(rec)
		if err != nil {
			b.Fatal(err)
		}
		digests[i] = ledger.BatchDigest(ledger.KindObservation, "monitor-1", submitted, canon)
		body = append(append(body, canon...), '\n')
	}
	root, _ := ledger.BatchRoot(digests)
	sig := ed25519.Sign(priv, ledger.BatchSignedMessage("monitor-1", int64(batch), root))
	req := httptest.NewRequest(http.MethodPost, "/v1/observations", bytes.NewReader(body))
	req.Header.Set("Content-Type", api.ContentNDJSON)
	req.Header.Set(api.HeaderBatchSubmitted, submitted.Format(time.RFC3339Nano))
	req.Header.Set(api.HeaderBatchSignature, base64.StdEncoding.EncodeToString(sig))
	reqauth.Sign(req, body, "monitor-1", priv, time.Now())
	return req
}
