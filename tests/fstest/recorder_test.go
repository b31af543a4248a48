package fstest

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
)

// recorder is a testing.TB that keeps what the package reports instead of
// acting on it, so that a test can check the package's errors, failures,
// skips and cleanups. Fatalf and Skip end only the goroutine of do.
type recorder struct {
	testing.TB
	mu       sync.Mutex
	reports  []string // "error: ...", "fatal: ..." or "skip: ..."
	cleanups []func()
	forward  bool // once the real test ends: report errors to it
}

// newRecorder returns a recorder on t. When t ends, the recorded cleanups
// run again with their errors reported to t, so that a test failing
// half-way leaves nothing behind; the package's teardown is idempotent.
func newRecorder(t *testing.T) *recorder {
	r := &recorder{TB: t}
	t.Cleanup(func() {
		r.mu.Lock()
		r.forward = true
		r.mu.Unlock()
		r.runCleanups()
	})
	return r
}

// do runs f as a test body: a Fatalf or Skip in it returns from do.
func (r *recorder) do(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}

// runCleanups runs the recorded cleanups, last first, and keeps them.
func (r *recorder) runCleanups() {
	r.mu.Lock()
	fs := slices.Clone(r.cleanups)
	r.mu.Unlock()
	for _, f := range slices.Backward(fs) {
		f()
	}
}

// take returns the reports so far and forgets them.
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	reps := r.reports
	r.reports = nil
	return reps
}

func (r *recorder) record(kind, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.forward {
		r.TB.Errorf("after the test, %s: %s", kind, msg)
		return
	}
	r.reports = append(r.reports, kind+": "+msg)
}

func (r *recorder) Cleanup(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleanups = append(r.cleanups, f)
}

func (r *recorder) Errorf(format string, args ...any) {
	r.record("error", fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.record("fatal", fmt.Sprintf(format, args...))
	runtime.Goexit()
}

func (r *recorder) Skip(args ...any) {
	r.record("skip", fmt.Sprint(args...))
	runtime.Goexit()
}
