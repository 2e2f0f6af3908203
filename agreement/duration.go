package agreement

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseDuration parses a Go duration with an extra leading d unit for days
// of 24 hours: "72h", "30m", "14d", "1d12h", "-2d".
func ParseDuration(s string) (time.Duration, error) {
	rest, sign := s, time.Duration(1)
	if r, ok := strings.CutPrefix(rest, "-"); ok {
		rest, sign = r, -1
	} else if r, ok := strings.CutPrefix(rest, "+"); ok {
		rest = r
	}
	var days time.Duration
	hasDays := false
	if i := strings.IndexByte(rest, 'd'); i >= 0 {
		n, err := strconv.ParseFloat(rest[:i], 64)
		if err != nil || i == 0 || strings.ContainsAny(rest[:i], "eE+-_xXpPnN") || n > float64(math.MaxInt64/int64(24*time.Hour)) {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		days = time.Duration(n * float64(24*time.Hour))
		rest, hasDays = rest[i+1:], true
	}
	var d time.Duration
	if rest != "" || !hasDays {
		if strings.HasPrefix(rest, "-") || strings.HasPrefix(rest, "+") {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		var err error
		if d, err = time.ParseDuration(rest); err != nil {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
	}
	if d > math.MaxInt64-days {
		return 0, fmt.Errorf("invalid duration %q: too long", s)
	}
	return sign * (days + d), nil
}
