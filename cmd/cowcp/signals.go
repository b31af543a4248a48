//go:build linux

package main

import (
	"context"
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The signals that end a copy cleanly: the walk stops, queued files are
// dropped and a file being written is removed, as after an error.
//
// A second impatient signal — one a user sends, from the keyboard or with
// kill — ends cowcp at once. SIGHUP and SIGPIPE come from the system, more
// than once for one cause: a hangup sends SIGHUP from the shell to its
// jobs and again from the kernel when the shell, the session leader,
// exits; every write to a broken pipe raises SIGPIPE. They never cut the
// cleanup short.
var (
	impatientSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT}
	systemSignals    = []os.Signal{syscall.SIGHUP, syscall.SIGPIPE}
)

// interrupt is why a copy stopped before its end: a signal, or a broken
// pipe on stdout, which kills cp with SIGPIPE.
type interrupt struct{ sig syscall.Signal }

func (i interrupt) Error() string { return "interrupted by " + unix.SignalName(i.sig) }

// exitStatus is 128+N, what a shell shows for a command a signal killed:
// 130 for SIGINT, 129 for SIGHUP, 143 for SIGTERM.
func (i interrupt) exitStatus() int { return 128 + int(i.sig) }

// signalWatch turns the signals above into the cancellation of a context,
// with an interrupt as its cause. While it watches, Go's runtime does not
// kill the process for a write to a broken pipe on stdout or stderr: the
// write fails with EPIPE and the SIGPIPE arrives here.
//
// It starts watching only when armed (tree.Options.Arm): signal.Notify
// hands each signal to a thread of the runtime's own and waits for it,
// which cost a one-file copy a millisecond, 13% of its time. Until the copy
// does something only an orderly stop undoes, a signal ends cowcp as it
// ends cp, leaving what cp leaves: new files are unnamed until complete.
type signalWatch struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	once   sync.Once
	sigs   chan os.Signal // nil until armed
	done   chan struct{}
}

func newSignalWatch() *signalWatch {
	w := &signalWatch{}
	w.ctx, w.cancel = context.WithCancelCause(context.Background())
	return w
}

// arm starts watching; later calls do nothing. Safe from any goroutine.
func (w *signalWatch) arm() { w.once.Do(w.start) }

func (w *signalWatch) start() {
	w.sigs, w.done = make(chan os.Signal, 8), make(chan struct{})
	signal.Notify(w.sigs, append(append([]os.Signal{}, impatientSignals...), systemSignals...)...)
	go func() {
		for {
			select {
			case <-w.done:
				return
			case s := <-w.sigs:
				sig := s.(syscall.Signal)
				if w.ctx.Err() != nil && slices.Contains(impatientSignals, s) {
					os.Exit(interrupt{sig}.exitStatus())
				}
				w.cancel(interrupt{sig})
			}
		}
	}()
}

// stop ends the watch, armed or not.
func (w *signalWatch) stop() {
	w.once.Do(func() {}) // no arming after this
	if w.sigs != nil {
		signal.Stop(w.sigs)
		close(w.done)
	}
	w.cancel(nil)
}

// dieLikeSignal ends the process by the signal an exit status 128+N
// stands for, once cowcp has cleaned up after it, for SIGINT, SIGHUP and
// SIGTERM: a shell running a loop or a script stops it only for a child
// that died by SIGINT, not for one that exited 130. It returns when the
// status is not such a signal's (SIGQUIT would dump core; SIGPIPE is not
// fatal to Go programs outside stdout and stderr, so it exits 141).
func dieLikeSignal(status int) {
	sig := syscall.Signal(status - 128)
	if status <= 128 || !slices.Contains([]syscall.Signal{syscall.SIGINT, syscall.SIGHUP, syscall.SIGTERM}, sig) {
		return
	}
	signal.Reset(sig)
	// Go's runtime, with no handler of ours, dies by these signals.
	if syscall.Kill(os.Getpid(), sig) == nil {
		time.Sleep(time.Second) // delivered to another thread: wait for it
	}
}
