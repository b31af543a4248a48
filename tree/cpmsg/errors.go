//go:build linux

package cpmsg

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// PathError is a failure in cp's words: an operation, the path it was
// about, and the reason. Error() reads like GNU cp's messages, e.g.
// "cannot stat 'x': No such file or directory"; errors.Is/As see the cause.
type PathError struct {
	Op   string // "cannot stat", "cannot create regular file", ...
	Path string
	// After follows the path in the message: cp says
	// "cannot open 'x' for reading: Permission denied".
	After string
	Err   error
}

func (e *PathError) Error() string {
	return fmt.Sprintf("%s %s%s: %s", e.Op, Quote(e.Path), e.After, Reason(e.Err))
}

func (e *PathError) Unwrap() error { return e.Err }

// Reason is the human text of an error's cause, as strerror(3) spells an
// errno ("No such file or directory"), or the error's own text otherwise.
func Reason(err error) string {
	var errno unix.Errno
	if errors.As(err, &errno) {
		s := errno.Error()
		r, n := utf8.DecodeRuneInString(s)
		return string(unicode.ToUpper(r)) + s[n:]
	}
	var pe *PathError
	if errors.As(err, &pe) {
		return pe.Error()
	}
	return err.Error()
}

// Quote quotes a file name the way GNU cp's messages do (quotearg's
// shell-escape style): 'name' in general, "name" for a name with a single
// quote and nothing else the shell would care about, and $'\NNN' pieces
// for control characters and bytes that are not UTF-8 (in the C locale,
// every byte past 0x7f):
// 'a'$'\n”b', 'Rock & Roll'\”s'.
func Quote(name string) string {
	printable := printableUTF8
	if !LocaleIsUTF8() {
		printable = printableASCII
	}
	hasQuote := strings.Contains(name, "'")
	allPrintable := true
	for _, r := range name {
		if !printable(r) {
			allPrintable = false
			break
		}
	}
	if allPrintable && !hasQuote {
		return "'" + name + "'"
	}
	if hasQuote && doubleQuotable(name, printable) {
		return `"` + name + `"`
	}
	var b strings.Builder
	b.WriteByte('\'')
	// GNU's quirk: a name with a quote that ends in an unprintable
	// character is written as if an escape were already open.
	inEscape := false
	if r, n := utf8.DecodeLastRuneInString(name); hasQuote && ((r == utf8.RuneError && n == 1) || !printable(r)) {
		inEscape = true
	}
	for i := 0; i < len(name); {
		r, n := utf8.DecodeRuneInString(name[i:])
		switch {
		case (r == utf8.RuneError && n == 1) || !printable(r):
			if !inEscape {
				b.WriteString("'$'")
				inEscape = true
			}
			for _, c := range []byte(name[i : i+n]) {
				b.WriteString(escapeByte(c))
			}
		case r == '\'':
			// Closes the quote (or the $'...' piece), an escaped quote,
			// and reopens.
			b.WriteString(`'\''`)
			inEscape = false
		default:
			if inEscape {
				b.WriteString("''")
				inEscape = false
			}
			b.WriteString(name[i : i+n])
		}
		i += n
	}
	b.WriteByte('\'')
	return b.String()
}

// doubleQuotable reports whether every character of name means nothing
// to the shell inside double quotes or out, which is when GNU writes a
// name with a single quote as "name".
func doubleQuotable(name string, printable func(rune) bool) bool {
	for i, r := range name {
		switch {
		case !printable(r):
			return false
		case strings.ContainsRune("!\"$&()*;<=>?[^`|\\", r):
			return false
		case (r == '#' || r == '~') && i > 0:
			return false
		case (r == '{' || r == '}') && len(name) > 1:
			return false
		}
	}
	return true
}

// printableUTF8 is what glibc's iswprint accepts in a UTF-8 locale:
// letters, marks, numbers, punctuation, symbols, every kind of space
// (U+00A0 too) and format characters (U+200B), but no control characters.
func printableUTF8(r rune) bool {
	if r == utf8.RuneError || unicode.IsControl(r) {
		return false
	}
	return unicode.IsGraphic(r) || unicode.Is(unicode.Cf, r)
}

// printableASCII is what isprint accepts in the C locale.
func printableASCII(r rune) bool { return r >= 0x20 && r < 0x7f }

func escapeByte(c byte) string {
	switch c {
	case '\a':
		return `\a`
	case '\b':
		return `\b`
	case '\f':
		return `\f`
	case '\n':
		return `\n`
	case '\r':
		return `\r`
	case '\t':
		return `\t`
	case '\v':
		return `\v`
	}
	return fmt.Sprintf(`\%03o`, c)
}
