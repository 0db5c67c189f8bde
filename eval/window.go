package eval

import (
	"fmt"
	"strings"
	"time"
)

// Window is a half-open evaluation interval [Start, End), UTC.
type Window struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

func (w Window) String() string {
	return w.Start.UTC().Format(time.RFC3339) + "/" + w.End.UTC().Format(time.RFC3339)
}

// Key is the window's storage key component, e.g. "2026-11-21T00-00-00Z".
func (w Window) Key() string {
	return strings.ReplaceAll(w.Start.UTC().Format(time.RFC3339), ":", "-")
}

// Contains reports whether t falls inside the window.
func (w Window) Contains(t time.Time) bool { return !t.Before(w.Start) && t.Before(w.End) }

// WindowAt returns the aligned window of the given length containing t.
// Windows are aligned to multiples of length since the Unix epoch, so a
// 24h window starts at midnight UTC and a 6h window at 00, 06, 12, 18.
func WindowAt(t time.Time, length time.Duration) Window {
	start := t.UTC().Truncate(length)
	return Window{Start: start, End: start.Add(length)}
}

// LastComplete is the newest window that ended at or before now.
func LastComplete(now time.Time, length time.Duration) Window {
	w := WindowAt(now, length)
	return Window{Start: w.Start.Add(-length), End: w.Start}
}

// WindowsBetween lists the aligned windows inside [from, to), in order.
func WindowsBetween(from, to time.Time, length time.Duration) []Window {
	var out []Window
	for s := from.UTC().Truncate(length); s.Add(length).Compare(to) <= 0; s = s.Add(length) {
		if !s.Before(from) {
			out = append(out, Window{Start: s, End: s.Add(length)})
		}
	}
	return out
}

// ParseTime accepts RFC 3339 or a date (midnight UTC).
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("time %q: want RFC 3339 (2026-11-21T00:00:00Z) or a date (2026-11-21)", s)
}

// ParseWindow parses "START/END"; both ends must be aligned to length.
func ParseWindow(s string, length time.Duration) (Window, error) {
	a, b, ok := strings.Cut(s, "/")
	if !ok {
		return Window{}, fmt.Errorf("window %q: want START/END, e.g. 2026-11-21T00:00:00Z/2026-11-22T00:00:00Z", s)
	}
	start, err := ParseTime(a)
	if err != nil {
		return Window{}, fmt.Errorf("window start: %w", err)
	}
	end, err := ParseTime(b)
	if err != nil {
		return Window{}, fmt.Errorf("window end: %w", err)
	}
	if end.Sub(start) != length || !start.Equal(start.Truncate(length)) {
		return Window{}, fmt.Errorf("window %q: must be one aligned %s window (e.g. %s)", s, length, WindowAt(start, length))
	}
	return Window{Start: start, End: end}, nil
}
