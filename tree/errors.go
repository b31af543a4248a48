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
		if r == utf8.RuneError || !unicode.IsPrint(r) {
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
	var b strings.Builder
	inQuote := false
	open := func() {
		if !inQuote {
			b.WriteByte('\'')
			inQuote = true
		}
	}
	closeQ := func() {
		if inQuote {
			b.WriteByte('\'')
			inQuote = false
		}
	}
	for i := 0; i < len(name); {
		r, n := utf8.DecodeRuneInString(name[i:])
		switch {
		case r == '\'':
			closeQ()
			b.WriteString(`\'`)
		case (r == utf8.RuneError && n == 1) || !unicode.IsPrint(r):
			closeQ()
			b.WriteString("$'")
			for _, c := range []byte(name[i : i+n]) {
				b.WriteString(escapeByte(c))
			}
			b.WriteByte('\'')
		default:
			open()
			b.WriteString(name[i : i+n])
		}
		i += n
	}
	closeQ()
	return b.String()
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
