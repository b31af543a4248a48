package tests

// The runner of the differential tests against GNU cp: it executes cp and
// the copier under test in the same conditions, and reports how their
// results differ.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// copierBin is the copier under test: the cowcp that TestMain built, or
// $COWCP_DIFF_BIN when set. COWCP_DIFF_BIN=/bin/cp checks the differential
// harness itself: cp compared with cp must show no difference.
func copierBin() string {
	if b := os.Getenv("COWCP_DIFF_BIN"); b != "" {
		return b
	}
	return cowcpBin
}

// invocation is one invocation, made identically for cp and the copier.
type invocation struct {
	dir   string   // working directory
	args  []string // arguments after the program name
	stdin string   // answers to -i prompts
	umask int      // umask for the run, or -1 to inherit the test's
	uid   int      // run as this uid and gid when non-zero
	// timeout bounds the run (default 60 s): a copier that hangs must fail
	// its case, not eat the suite's time budget.
	timeout time.Duration
}

// timedOut is the exit code execute reports for a run it had to kill.
const timedOut = -1

// execute runs bin as c says, in the C locale and without the environment
// variables that change cp's behaviour, and returns its result; the code is
// timedOut if it had to be killed.
func execute(t testing.TB, bin string, c invocation) result {
	t.Helper()
	if c.timeout == 0 {
		c.timeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	args := append([]string{bin}, c.args...)
	if c.umask >= 0 {
		args = append([]string{"/bin/sh", "-c", fmt.Sprintf(`umask %03o && exec "$0" "$@"`, c.umask)}, args...)
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = c.dir
	cmd.Stdin = strings.NewReader(c.stdin)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	// A -race binary sleeps a second at exit (atexit_sleep_ms=1000) unless
	// told not to; the suite runs it over a thousand times.
	gorace := "atexit_sleep_ms=0"
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case k == "LANG", k == "LANGUAGE", strings.HasPrefix(k, "LC_"),
			k == "VERSION_CONTROL", k == "SIMPLE_BACKUP_SUFFIX", k == "POSIXLY_CORRECT":
			continue
		case k == "GORACE":
			gorace = v + " " + gorace
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, "LC_ALL=C", "GORACE="+gorace)
	if c.uid != 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{
			Uid: uint32(c.uid), Gid: uint32(c.uid), Groups: []uint32{},
		}}
	}
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Logf("%q in %q: killed after %v", args, c.dir, c.timeout)
		return result{code: timedOut, stdout: so.String(), stderr: se.String() + "(killed: timed out)"}
	}
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("running %q: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return result{code: code, stdout: so.String(), stderr: se.String()}
}

// gnuCp is GNU cp, the reference.
func gnuCp(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("cp")
	if err != nil {
		t.Fatalf("GNU cp, the reference, is not installed: %v", err)
	}
	return p
}

// reportDiffs fails t with the differences, at most limit of them.
func reportDiffs(t testing.TB, what string, diffs []string) {
	t.Helper()
	if len(diffs) == 0 {
		return
	}
	const limit = 60
	n, more := len(diffs), ""
	if n > limit {
		more = fmt.Sprintf("\n\t… and %d more", n-limit)
		diffs = diffs[:limit]
	}
	t.Errorf("%s: %d differences:\n\t%s%s", what, n, strings.Join(diffs, "\n\t"), more)
}

func short(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

func unionKeys[V any](a, b map[string]V) []string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}
