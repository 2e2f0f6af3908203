package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/alert/outbox"
	"github.com/truce-mission/truce/obsindex"
)

// Config is what the HTTP API serves.
type Config struct {
	Log Log
	// Agreement gives the identities that sign requests and their roles. Without it only
	// the public log endpoints answer; the rest are 503.
	Agreement *agreement.Agreement
	// Observations is the observation index GET /v1/observations reads; Follow keeps it
	// current. Poke, when set, is called after each intake append so Follow catches up at
	// once. Without an index the observation endpoints are not served.
	Observations *obsindex.Index
	Tagger       *obsindex.Tagger
	Poke         func()
	// MaxInFlight bounds concurrent intake requests (DefaultMaxInFlight when 0); beyond it
	// POST /v1/observations answers 429 with Retry-After.
	MaxInFlight int
	// Now is the clock request signatures are checked against; time.Now when nil.
	Now func() time.Time
	// VerifierKey is the mission's checkpoint verifier key in the signed-note format
	// ("name+hash+base64"), served at /v1/log/verifier.
	VerifierKey string
	// Registry receives the API's metrics and is served at /metrics; a new one when nil.
	Registry *prometheus.Registry
	// Alerts is the alert outbox GET /v1/incidents and /v1/alerts read, and Webhooks the
	// webhook subscriptions of /v1/subscriptions; without them those endpoints are 503.
	// The outbox must follow Log: the intake and POST /v1/log/entries offer it the entries
	// they append ([outbox.Outbox.Offer]).
	Alerts   *outbox.Outbox
	Webhooks *outbox.Webhooks
	// Heartbeat is how often the alert stream writes a comment when idle (DefaultHeartbeat
	// when 0).
	Heartbeat time.Duration
	// Closing, when closed, ends the open alert streams, so that a graceful shutdown does
	// not wait for clients that never hang up (http.Server.RegisterOnShutdown closes it).
	Closing <-chan struct{}
}

// New returns the API's handler.
func New(cfg Config) http.Handler {
	h, _ := build(cfg)
	return h
}

// router is a ServeMux that remembers its patterns, so a test can hold them against the
// OpenAPI description.
type router struct {
	*http.ServeMux
	patterns []string
}

func (r *router) Handle(pattern string, h http.Handler) {
	r.patterns = append(r.patterns, pattern)
	r.ServeMux.Handle(pattern, h)
}

func (r *router) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	r.Handle(pattern, http.HandlerFunc(h))
}

// build returns the handler and the patterns it serves.
func build(cfg Config) (http.Handler, []string) {
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	m := newMetrics(reg, cfg.Log)
	mux := &router{ServeMux: http.NewServeMux()}
	au := newAuthn(cfg.Agreement, cfg.Now)
	offer := func([]outbox.Appended) {}
	if cfg.Alerts != nil {
		offer = cfg.Alerts.Offer
	}
	(&logHandlers{log: cfg.Log, verifier: cfg.VerifierKey, auth: au, offer: offer}).register(mux)
	if cfg.Observations != nil {
		slots := cfg.MaxInFlight
		if slots <= 0 {
			slots = DefaultMaxInFlight
		}
		poke := cfg.Poke
		if poke == nil {
			poke = func() {}
		}
		(&observationHandlers{
			log: cfg.Log, a: cfg.Agreement, auth: au, index: cfg.Observations, tagger: cfg.Tagger,
			poke: poke, offer: offer, slots: make(chan struct{}, slots), m: newIntakeMetrics(reg),
		}).register(mux)
	}
	heartbeat := cfg.Heartbeat
	if heartbeat <= 0 {
		heartbeat = DefaultHeartbeat
	}
	(&alertHandlers{log: cfg.Log, auth: au, ob: cfg.Alerts, hooks: cfg.Webhooks, heartbeat: heartbeat, closing: cfg.Closing}).register(mux)
	mux.HandleFunc("GET /openapi.json", serveOpenAPI)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return m.instrument(mux.ServeMux), mux.patterns
}

type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer, log Log) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "truce_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "truce_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.latency, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "truce_log_size", Help: "Entries in the evidence log.",
	}, func() float64 { return float64(log.Size()) }))
	return m
}

// instrument counts and times requests by the mux pattern that served them, so ids in paths
// do not explode the label set.
func (m *metrics) instrument(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		mux.ServeHTTP(sw, r)
		_, route := mux.Handler(r)
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(route, strconv.Itoa(sw.code)).Inc()
		m.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
