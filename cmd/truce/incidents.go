package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"

	"github.com/truce-mission/truce/alert/outbox"
	"github.com/truce-mission/truce/client"
	"github.com/truce-mission/truce/keys"
)

type incidentsCmd struct {
	Server   string `required:"" env:"TRUCE_SERVER" help:"The truce server's URL."`
	Key      string `required:"" help:"Private key file of the identity that reads (its role decides what it sees)."`
	As       string `help:"Identity id to sign as. Default: from the key file."`
	Verdict  string `help:"Only incidents with this verdict (infraction, within-limit, notified, dismissed, merged)."`
	Party    string `help:"Only incidents attributed to this party."`
	Zone     string `help:"Only incidents with a supporting observation in this zone."`
	Category string `help:"Only incidents of this category or one below it."`
	Since    string `help:"Only incidents opened at or after this RFC 3339 time."`
	Until    string `help:"Only incidents opened before this RFC 3339 time."`
	JSON     bool   `name:"json" help:"Print the server's JSON instead of a table."`
	ID       int64  `arg:"" optional:"" help:"One incident, in full: rules, evidence by ledger index, explanation."`
}

func (c *incidentsCmd) Help() string {
	return `Lists the incidents the server's verification engine holds, as the identity of --key may
see them, or one incident in full with the evidence that counted for and against it.

Examples:

    truce incidents --server http://127.0.0.1:8080 --key analyst-1.key
    truce incidents --server http://127.0.0.1:8080 --key analyst-1.key --zone dmz --verdict breach
    truce incidents --server http://127.0.0.1:8080 --key analyst-1.key 3`
}

func (c *incidentsCmd) Run(s streams) error {
	cl, err := signedClient(c.Server, c.Key, c.As)
	if err != nil {
		return err
	}
	ctx := context.Background()
	if c.ID != 0 {
		inc, err := cl.Incident(ctx, c.ID)
		if err != nil {
			return err
		}
		if c.JSON {
			return printJSON(s.out, inc)
		}
		printIncident(s.out, inc)
		return nil
	}
	q := url.Values{}
	for k, v := range map[string]string{"verdict": c.Verdict, "party": c.Party, "zone": c.Zone, "category": c.Category, "since": c.Since, "until": c.Until} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var all []outbox.Incident
	for {
		page, err := cl.Incidents(ctx, q)
		if err != nil {
			return err
		}
		all = append(all, page.Incidents...)
		if page.Next == "" {
			break
		}
		q.Set("cursor", page.Next)
	}
	if c.JSON {
		return printJSON(s.out, all)
	}
	tw := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tVERDICT\tCERTAINTY\tCATEGORY\tCOUNT\tPARTY\tZONES\tRULES\tEVIDENCE\tFIRST SEEN")
	for _, inc := range all {
		var rules []string
		for _, r := range inc.Rules {
			if r.Breached {
				rules = append(rules, r.Rule)
			}
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%d\t%s\n", inc.ID, inc.Verdict, inc.Certainty, inc.Category, inc.Count,
			orDash(inc.Party), orDash(strings.Join(inc.Zones, ",")), orDash(strings.Join(rules, ",")), len(inc.Evidence), inc.First.UTC().Format("2006-01-02T15:04Z"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(s.err, "%d incidents\n", len(all))
	return nil
}

// printIncident writes one incident for a reader: what, where, the verdict and why.
func printIncident(w io.Writer, inc outbox.Incident) {
	fmt.Fprintf(w, "incident %d (version %d): %s, certainty %s\n", inc.ID, inc.Version, inc.Verdict, inc.Certainty)
	fmt.Fprintf(w, "  %d × %s, party %s, at %.5f,%.5f, zones %s\n", inc.Count, inc.Category, orDash(inc.Party),
		inc.Position[1], inc.Position[0], orDash(strings.Join(inc.Zones, ", ")))
	fmt.Fprintf(w, "  seen %s to %s; opened %s; review due %s\n", inc.First.UTC().Format("2006-01-02T15:04:05Z"),
		inc.Last.UTC().Format("2006-01-02T15:04:05Z"), inc.Opened.UTC().Format("2006-01-02T15:04:05Z"), inc.ReviewDue.UTC().Format("2006-01-02T15:04:05Z"))
	if len(inc.Addressees) > 0 {
		fmt.Fprintf(w, "  addressed to %s; alerts %s\n", strings.Join(inc.Addressees, ", "), orDash(strings.Join(inc.Alerts, ", ")))
	}
	fmt.Fprintln(w, "rules:")
	for _, r := range inc.Rules {
		state := "touched"
		if r.Breached {
			state = "breached"
		}
		if r.CoveredBy >= 0 {
			state += fmt.Sprintf(", covered by notification #%d", r.CoveredBy)
		}
		where := r.Zone
		if r.Line != "" {
			where = fmt.Sprintf("%.0f m from %s", r.DistanceM, r.Line)
		}
		fmt.Fprintf(w, "  %s (%s, %s): %s\n", r.Rule, r.Kind, orDash(where), state)
	}
	fmt.Fprintln(w, "evidence:")
	for _, e := range inc.Evidence {
		fmt.Fprintf(w, "  #%d %s %s by %s: %s — %s\n", e.Index, e.Kind, orDash(e.ID), e.Submitter, e.Counted, e.Why)
	}
	fmt.Fprintln(w, "explanation:")
	for _, line := range inc.Explanation {
		fmt.Fprintf(w, "  %s\n", line)
	}
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// signedClient is a client of server that signs its requests as the identity of keyFile
// (or as, when given).
func signedClient(server, keyFile, as string, opts ...client.Option) (*client.Client, error) {
	priv, err := keys.LoadPrivateKey(keyFile)
	if err != nil {
		return nil, err
	}
	if as == "" {
		as = identityOfKeyFile(keyFile)
	}
	return client.New(server, append([]client.Option{client.WithIdentity(as, priv)}, opts...)...)
}
