//go:build linux

package fallback

import "errors"

// ErrUnsupported is returned (wrapped) when a method cannot work for this
// pair of files and nothing was written, so a slower method may be tried.
// errors.Is(err, errors.ErrUnsupported) is true for it.
var ErrUnsupported = errors.ErrUnsupported
