// Package contrib holds the Go scorers data scientists add to parity, and
// links the optional scorer packages into the binary: cmd/parity imports
// it for its side effects (`import _ ".../scorers/contrib"`), and every
// file here registers its scorer types in init, so they are usable as
// `type:` in any config. docs/scorers.md walks through adding one.
package contrib

import (
	// External (Arrow IPC subprocess) scorers: `type: external`.
	_ "github.com/parity-eval/parity/scorers/external"
)
