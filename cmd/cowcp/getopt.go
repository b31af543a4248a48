//go:build linux

package main

import (
	"fmt"
	"strings"
)

// The command line is read as GNU getopt_long reads cp's: long options by
// any unambiguous prefix, an optional argument only after '=', short
// options clustered (-aRv, -S~, -tdir), operands anywhere unless
// POSIXLY_CORRECT is set, and '--' ending the options. Each option is
// handed to a callback as it is read, in command-line order, so the last
// of overlapping options wins exactly as in cp's option loop, and an error
// from the callback stops the reading where cp would stop.

// argKind is getopt_long's has_arg.
type argKind int

const (
	noArg argKind = iota
	requiredArg
	optionalArg
)

// longOpt is one entry of getopt_long's table.
type longOpt struct {
	name string
	arg  argKind
	id   rune // what the option does: the short letter, or a value past 255
	// own marks cowcp's own options. cp's abbreviations must mean what they
	// mean to cp (--sy is --symbolic-link, not ambiguous with --sync), so
	// these match a prefix only when no cp option does.
	own bool
}

// parsedOpt is one option as read.
type parsedOpt struct {
	id     rune
	name   string // as cp names it in messages: "--reflink", "-S"
	arg    string
	hasArg bool
}

// usageError is a command-line mistake. cp follows most of them with a
// hint to --help (try); a few it states alone.
type usageError struct {
	msg string
	try bool
}

func (e *usageError) Error() string { return e.msg }

func badUsage(format string, args ...any) *usageError {
	return &usageError{msg: fmt.Sprintf(format, args...), try: true}
}

// getopt reads args as getopt_long does with the table longs and the
// short options shorts (a letter followed by ':' takes an argument),
// calls handle for each option in order, and returns the operands.
func getopt(args []string, shorts string, longs []longOpt, posixlyCorrect bool, handle func(parsedOpt) error) ([]string, error) {
	var operands []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return append(operands, args[i+1:]...), nil
		case a == "-" || !strings.HasPrefix(a, "-"):
			if posixlyCorrect {
				return append(operands, args[i:]...), nil
			}
			operands = append(operands, a)
			continue
		}
		var opts []parsedOpt
		var err error
		if strings.HasPrefix(a, "--") {
			var o parsedOpt
			if o, i, err = readLong(args, i, longs); err == nil {
				opts = []parsedOpt{o}
			}
		} else {
			opts, i, err = readShorts(args, i, shorts)
		}
		// The options of a cluster before a bad letter count, as getopt
		// returns them one by one.
		for _, o := range opts {
			if herr := handle(o); herr != nil {
				return nil, herr
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return operands, nil
}

// readLong reads the long option args[i] and, for a required argument not
// given with '=', the next argument. It returns the index of the last
// argument used.
func readLong(args []string, i int, longs []longOpt) (parsedOpt, int, error) {
	text := args[i][2:]
	name, value, hasValue := strings.Cut(text, "=")
	opt, err := findLong(text, name, longs)
	if err != nil {
		return parsedOpt{}, i, err
	}
	o := parsedOpt{id: opt.id, name: "--" + opt.name}
	switch {
	case opt.arg == noArg && hasValue:
		return o, i, badUsage("option '--%s' doesn't allow an argument", opt.name)
	case hasValue:
		o.arg, o.hasArg = value, true
	case opt.arg == requiredArg:
		if i+1 >= len(args) {
			return o, i, badUsage("option '--%s' requires an argument", opt.name)
		}
		i++
		o.arg, o.hasArg = args[i], true
	}
	return o, i, nil
}

// findLong finds the option name stands for: an exact name, else the
// options it is a prefix of, cp's before cowcp's own. Several that differ
// are ambiguous; glibc names them, leaving out those equal to the first
// (--parents and --path are one option).
func findLong(text, name string, longs []longOpt) (longOpt, error) {
	for _, o := range longs {
		if o.name == name {
			return o, nil
		}
	}
	for _, own := range []bool{false, true} {
		var first *longOpt
		var others []string
		for k := range longs {
			o := &longs[k]
			if o.own != own || !strings.HasPrefix(o.name, name) {
				continue
			}
			switch {
			case first == nil:
				first = o
			case o.arg != first.arg || o.id != first.id:
				others = append(others, o.name)
			}
		}
		if first == nil {
			continue
		}
		if others != nil {
			var b strings.Builder
			fmt.Fprintf(&b, "option '--%s' is ambiguous; possibilities:", text)
			for _, n := range append([]string{first.name}, others...) {
				fmt.Fprintf(&b, " '--%s'", n)
			}
			return longOpt{}, badUsage("%s", b.String())
		}
		return *first, nil
	}
	return longOpt{}, badUsage("unrecognized option '--%s'", text)
}

// readShorts reads the cluster of short options args[i]. An option that
// takes an argument takes the rest of the cluster, or else the next
// argument. It returns the options read before any error, and the index
// of the last argument used.
func readShorts(args []string, i int, shorts string) ([]parsedOpt, int, error) {
	a := args[i]
	var opts []parsedOpt
	for j := 1; j < len(a); j++ {
		c := a[j]
		k := strings.IndexByte(shorts, c)
		if c == ':' || k < 0 {
			// The byte, as getopt prints it: %c of a byte past 0x7f
			// would print the rune of that number, in UTF-8.
			return opts, i, badUsage("invalid option -- '%s'", a[j:j+1])
		}
		o := parsedOpt{id: rune(c), name: "-" + string(c)}
		if k+1 < len(shorts) && shorts[k+1] == ':' {
			switch {
			case j+1 < len(a):
				o.arg = a[j+1:]
			case i+1 < len(args):
				i++
				o.arg = args[i]
			default:
				return opts, i, badUsage("option requires an argument -- '%c'", c)
			}
			o.hasArg = true
			return append(opts, o), i, nil
		}
		opts = append(opts, o)
	}
	return opts, i, nil
}
