package gendoc

import (
	"fmt"
	"strings"
	"unicode"
)

// brief is a help text's first sentence, for a completion's one-line
// description: without `code` marks or a final period.
func brief(help string) string {
	s := strings.Join(strings.Fields(strings.ReplaceAll(help, "`", "")), " ")
	if sentences := splitSentences(s); len(sentences) > 0 {
		s = sentences[0]
	}
	return strings.TrimSuffix(s, ".")
}

// splitSentences splits text, its white space made single spaces, after
// each ". " that a capital letter follows outside `code` ("e.g. 1.5 MiB"
// and "`--b=nu. X`" stay whole).
func splitSentences(text string) []string {
	s := strings.Join(strings.Fields(text), " ")
	var out []string
	inCode := false
	start := 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '`':
			inCode = !inCode
		case !inCode && i+2 < len(s) && strings.ContainsRune(".?!", rune(s[i])) && s[i+1] == ' ' &&
			unicode.IsUpper(rune(s[i+2])):
			out = append(out, s[start:i+1])
			start = i + 2
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// isShellWord: a word completion scripts may hold unquoted (option names,
// choices): letters, digits and _.,+-.
func isShellWord(w string) bool {
	return w != "" && strings.Trim(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.,+-") == ""
}

// checkWords fails for a word the completion scripts cannot hold as it is.
func (m *Model) checkWords() error {
	if !isShellWord(m.Name) {
		return fmt.Errorf("gendoc: command name %q is not a plain word", m.Name)
	}
	for _, o := range m.Options {
		if o.Long == "" && o.Short == "" {
			return fmt.Errorf("gendoc: %s: an option without a name (help %q)", m.Name, o.Help)
		}
		words := append([]string{o.Long, o.Arg}, o.Choices...)
		for _, c := range o.Short {
			words = append(words, string(c))
		}
		for _, w := range words {
			if w != "" && !isShellWord(w) {
				return fmt.Errorf("gendoc: %s: option word %q is not a plain word", m.Name, w)
			}
		}
		if len(o.Choices) > 0 && o.Arg == "" {
			return fmt.Errorf("gendoc: %s: %v has choices but no argument", m.Name, o.Names())
		}
	}
	return nil
}
