//go:build linux

package main

import (
	"context"
	"os"
	"os/signal"
	"slices"
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

// watchSignals returns a context that the first signal cancels, with an
// interrupt as its cause, and a function that stops watching. While it
// watches, Go's runtime does not kill the process for a write to a broken
// pipe on stdout or stderr: the write fails with EPIPE and the SIGPIPE
// arrives here.
func watchSignals() (context.Context, context.CancelCauseFunc, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, append(append([]os.Signal{}, impatientSignals...), systemSignals...)...)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case s := <-sigs:
				sig := s.(syscall.Signal)
				if ctx.Err() != nil && slices.Contains(impatientSignals, s) {
					os.Exit(interrupt{sig}.exitStatus())
				}
				cancel(interrupt{sig})
			}
		}
	}()
	return ctx, cancel, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
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
