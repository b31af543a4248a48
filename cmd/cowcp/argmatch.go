//go:build linux

package main

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/cowcp/cowcp/tree/cpmsg"
)

// An option's value from a fixed list (--reflink=WHEN, --backup=CONTROL,
// --preserve=ATTR_LIST) is matched as gnulib's argmatch matches it: the
// exact word, or a prefix of words that all mean the same (--backup=nu is
// numbered; --backup=n is ambiguous: none, nil, numbered and never differ).

// choice is one word an option's value may be, and what it means.
type choice[T comparable] struct {
	word string
	val  T
}

// argmatch returns the meaning of arg among choices, or cp's usage error
// naming context ("--reflink", "backup type").
func argmatch[T comparable](context, arg string, choices []choice[T]) (T, error) {
	var zero T
	match, ambiguous := -1, false
	for k, c := range choices {
		if !strings.HasPrefix(c.word, arg) {
			continue
		}
		if c.word == arg {
			return c.val, nil
		}
		switch {
		case match < 0:
			match = k
		case choices[match].val != c.val:
			ambiguous = true
		}
	}
	if match >= 0 && !ambiguous {
		return choices[match].val, nil
	}
	what := "invalid"
	if ambiguous {
		what = "ambiguous"
	}
	q := newQuoter()
	var b strings.Builder
	fmt.Fprintf(&b, "%s argument %s for %s\nValid arguments are:", what, q.quote(arg), q.quote(context))
	for k, c := range choices {
		if k == 0 || choices[k-1].val != c.val {
			fmt.Fprintf(&b, "\n  - %s", q.quote(c.word))
		} else {
			fmt.Fprintf(&b, ", %s", q.quote(c.word))
		}
	}
	return zero, badUsage("%s", b.String())
}

// quoter quotes as gnulib's quote() in cp's locale: ‘x’ where the locale's
// character set is UTF-8, 'x' elsewhere (the C locale, or a locale that is
// named but not installed, which setlocale refuses).
type quoter struct {
	left, right string
	utf8        bool
}

func newQuoter() quoter {
	if cpmsg.LocaleIsUTF8() {
		return quoter{"\u2018", "\u2019", true}
	}
	return quoter{"'", "'", false}
}

// quote escapes a backslash, the closing quote and unprintable bytes with
// backslashes, as locale_quoting_style does.
func (q quoter) quote(s string) string {
	var b strings.Builder
	b.WriteString(q.left)
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], q.right) {
			b.WriteString(`\` + q.right)
			i += len(q.right)
			continue
		}
		c := s[i]
		if c >= 0x80 && q.utf8 {
			if r, n := utf8.DecodeRuneInString(s[i:]); r != utf8.RuneError {
				b.WriteString(s[i : i+n])
				i += n
				continue
			}
		}
		switch {
		case c == '\\':
			b.WriteString(`\\`)
		case c >= 0x20 && c < 0x7f:
			b.WriteByte(c)
		default:
			if e := strings.IndexByte("\a\b\f\n\r\t\v", c); e >= 0 {
				b.WriteString(`\` + "abfnrtv"[e:e+1])
			} else {
				fmt.Fprintf(&b, `\%03o`, c)
			}
		}
		i++
	}
	b.WriteString(q.right)
	return b.String()
}
