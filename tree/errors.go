package tree

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

func pathErr(op, path string, err error) error {
	return &PathError{Op: op, Path: path, Err: err}
}

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

// Quote quotes a file name the way GNU cp's messages do (shell-escape):
// 'name' when that is safe, "name" for names with a single quote, and
// $'\n' pieces for control characters and bytes that are not UTF-8.
func Quote(name string) string {
	plain := true
	for _, r := range name {
		if !printable(r) {
			plain = false
			break
		}
	}
	if plain {
		if !strings.Contains(name, "'") {
			return "'" + name + "'"
		}
		if !strings.ContainsAny(name, "\"$`\\") {
			return `"` + name + `"`
		}
	}
	// GNU's shell-escape style: one single-quoted string, with ' written
	// as '\'' and runs of unprintable bytes as $'\NNN' pieces between
	// quotes: 'a'$'\n''b'.
	var b strings.Builder
	b.WriteByte('\'')
	inEscape := false
	for i := 0; i < len(name); {
		r, n := utf8.DecodeRuneInString(name[i:])
		if (r == utf8.RuneError && n == 1) || !printable(r) {
			if !inEscape {
				b.WriteString("'$'")
				inEscape = true
			}
			for _, c := range []byte(name[i : i+n]) {
				b.WriteString(escapeByte(c))
			}
		} else {
			switch {
			case r == '\'':
				// Closes the quote (or the $'...' piece), an escaped
				// quote, and reopens.
				b.WriteString(`'\''`)
			case inEscape:
				b.WriteString("''")
				b.WriteString(name[i : i+n])
			default:
				b.WriteString(name[i : i+n])
			}
			inEscape = false
		}
		i += n
	}
	b.WriteByte('\'')
	out := b.String()
	if inEscape && strings.Contains(name, "'") && name[0] != '\'' {
		// GNU's quotearg restarts when it meets a quote and an escape in
		// one name, which leaves an empty '' in front in this case.
		out = "''" + out
	}
	return out
}

// printable is what glibc's iswprint accepts in a UTF-8 locale: letters,
// marks, numbers, punctuation, symbols, every kind of space (U+00A0 too)
// and format characters (U+200B), but no control characters.
func printable(r rune) bool {
	if r == utf8.RuneError || unicode.IsControl(r) {
		return false
	}
	return unicode.IsGraphic(r) || unicode.Is(unicode.Cf, r)
}

func escapeByte(c byte) string {
	switch c {
	case '\n':
		return `\n`
	case '\t':
		return `\t`
	case '\r':
		return `\r`
	}
	return fmt.Sprintf(`\%03o`, c)
}
