//go:build linux

package main

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cowcp/cowcp/tree"
)

// syncBuffer is a bytes.Buffer several goroutines may write.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// An -i question clears the bar's line, and the bar stays still until the
// answer is in: a redraw would overwrite the question on a terminal.
func TestPromptHoldsTheBar(t *testing.T) {
	c := &cli{progress: "always", interactive: interactiveAsk}
	var stderr syncBuffer
	r := newReporter(c, io.Discard, &stderr)
	if r.bar == nil {
		t.Fatal("--progress=always made no bar")
	}
	r.observe(tree.Event{Progress: 1 << 20})
	answerR, answerW := io.Pipe()
	ask := r.prompter(answerR)

	const q = "overwrite 'f'? "
	answered := make(chan bool)
	go func() { answered <- ask(q) }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.HasSuffix(stderr.String(), q) {
		if time.Now().After(deadline) {
			t.Fatalf("the question never came; stderr %q", stderr.String())
		}
		time.Sleep(time.Millisecond)
	}
	asked := stderr.String()
	if before := strings.TrimSuffix(asked, progName+": "+q); !strings.HasSuffix(before, "\r") {
		t.Errorf("the bar was not cleared before the question: %q", asked)
	}

	observed := make(chan struct{})
	go func() {
		r.observe(tree.Event{Progress: 1 << 20})
		_, _ = r.warnings().Write([]byte("a notice\n"))
		close(observed)
	}()
	select {
	case <-observed:
		t.Fatal("the bar or a notice was written while the question waited")
	case <-time.After(200 * time.Millisecond):
	}
	if got := stderr.String(); got != asked {
		t.Fatalf("stderr changed while the question waited: %q", got[len(asked):])
	}
	if _, err := answerW.Write([]byte("y\n")); err != nil {
		t.Fatal(err)
	}
	if !<-answered {
		t.Error("'y' was not a yes")
	}
	<-observed
	if rest := stderr.String()[len(asked):]; !strings.Contains(rest, "a notice\n") {
		t.Errorf("the notice after the answer is missing: %q", rest)
	}
}
