package scenario

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/truce-mission/truce/alert/outbox"
	"github.com/truce-mission/truce/engine"
)

// capWriter writes the alerts of the engine's changes as DIR/<identifier>.xml: the alerts the
// server's outbox makes from the same log (the same outbox.Alerter).
type capWriter struct {
	dir     string
	alerter *outbox.Alerter // over the run's engine, whose finding prefix is the script's name
	files   []string
}

func (w *capWriter) write(c engine.Change) error {
	al, f, err := w.alerter.Alert(c)
	if errors.Is(err, outbox.ErrNoAlert) {
		return nil
	}
	if err == nil {
		var b []byte
		if b, err = al.XML(); err == nil {
			name := filepath.Join(w.dir, al.Identifier+".xml")
			if err = os.WriteFile(name, b, 0o644); err == nil {
				w.files = append(w.files, name)
				return nil
			}
		}
	}
	return fmt.Errorf("alert of the %s change (finding %q, version %d): %w", c.Kind, f.ID, f.Version, err)
}
