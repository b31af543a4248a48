//go:build linux

package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cowcp/cowcp/internal/gendoc"
)

// cowcp's manual page and completions are made from what the command
// itself reads and prints: the option table the parser reads (longOpts,
// shortOpts, the choices argmatch matches) and the --help text, option by
// option, so that they cannot say other things than --help. Only the
// sections --help does not have are written by hand, from the README, in
// manual_sections.go.
// (go run -tags gendocs ./cmd/cowcp writes them: see gendocs.go.)

// manual is cowcp's documents' model.
func manual() (*gendoc.Model, error) {
	var help strings.Builder
	printHelp(&help)
	h, err := parseHelp(help.String())
	if err != nil {
		return nil, err
	}
	opts, err := helpOptions(h.options)
	if err != nil {
		return nil, err
	}
	m := &gendoc.Model{
		Name:     "cowcp",
		Package:  "cowcp",
		Summary:  "copy files and directories, cloning their data where the filesystem can",
		Synopsis: h.usage,
		Options:  opts,
		Operands: gendoc.CompleteFile,
	}
	m.Description = append(append([]gendoc.Block{gendoc.Para(h.intro[0])}, description()...), paras(h.intro[1:])...)
	m.OptionNotes = h.notes
	m.Sections = []gendoc.Section{
		{Title: "THE JSON REPORT", Blocks: jsonReportDoc()},
		{Title: "EXIT STATUS", Blocks: exitStatusDoc()},
		{Title: "ENVIRONMENT", Blocks: environmentDoc()},
		{Title: "DIFFERENCES FROM GNU CP", Blocks: differencesDoc()},
		{Title: "EXAMPLES", Blocks: examplesDoc()},
		{Title: "SEE ALSO", Blocks: []gendoc.Block{gendoc.Para(
			"`cp`(1), `cowdu`(1), `ioctl_ficlone`(2), `copy_file_range`(2)")}},
	}
	return m, nil
}

// helpDoc is --help as read back: its usage lines, the paragraphs before
// the options, the options' entries, and the paragraphs after them.
type helpDoc struct {
	usage   []string
	intro   []string
	options []helpEntry
	notes   []gendoc.Block
}

// helpEntry is one option's entry in --help: "  -S, --suffix=SUFFIX"
// and its text, under a group's title ("cowcp's own options:").
type helpEntry struct {
	names, text, group string
}

// parseHelp reads the --help output back. Its layout is cp's: usage
// lines, paragraphs separated by blank lines, options indented by two or
// six columns with their text after two spaces or more and continued on
// deeper-indented lines, a group's title ending in ':' over its options,
// and tables of two indented columns.
func parseHelp(text string) (helpDoc, error) {
	var h helpDoc
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	for len(lines) > 0 {
		rest, ok := strings.CutPrefix(lines[0], "Usage: ")
		if !ok {
			rest, ok = strings.CutPrefix(lines[0], "  or:  ")
		}
		if !ok {
			break
		}
		h.usage = append(h.usage, rest)
		lines = lines[1:]
	}
	group := ""
	for _, para := range splitParagraphs(lines) {
		// Text right above options ("Mandatory arguments ...") is a
		// paragraph of its own, or the options' group title.
		if k := slices.IndexFunc(para, isOptionLine); k > 0 {
			if k == 1 && strings.HasSuffix(para[0], ":") {
				group = para[0]
			} else if h.options == nil {
				h.intro = append(h.intro, strings.Join(para[:k], " "))
			} else {
				h.notes = append(h.notes, gendoc.Para(strings.Join(para[:k], " ")))
			}
			para = para[k:]
		}
		switch {
		case isOptionLine(para[0]):
			for _, line := range para {
				if isOptionLine(line) {
					names, text, _ := strings.Cut(strings.TrimLeft(line, " "), "  ")
					h.options = append(h.options, helpEntry{names: names, text: text, group: group})
					continue
				}
				e := &h.options[len(h.options)-1]
				e.text += " " + line
			}
		case h.options == nil:
			h.intro = append(h.intro, strings.Join(para, " "))
		case isTable(para):
			var items []gendoc.Item
			for _, line := range para {
				term, text, _ := strings.Cut(strings.TrimSpace(line), "  ")
				items = append(items, gendoc.Item{Term: term, Text: text})
			}
			h.notes = append(h.notes, gendoc.List(items...))
		default:
			h.notes = append(h.notes, gendoc.Para(strings.Join(para, " ")))
		}
	}
	if len(h.usage) == 0 || len(h.intro) == 0 || len(h.options) == 0 {
		return h, fmt.Errorf("--help has not cp's layout: %d usage lines, %d paragraphs before %d options",
			len(h.usage), len(h.intro), len(h.options))
	}
	return h, nil
}

func splitParagraphs(lines []string) [][]string {
	var paras [][]string
	var cur []string
	for _, line := range append(lines, "") {
		if strings.TrimSpace(line) == "" {
			if cur != nil {
				paras = append(paras, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, line)
	}
	return paras
}

// isOptionLine: an option's first line, indented by two or six columns.
func isOptionLine(line string) bool {
	return strings.HasPrefix(line, "  -") || strings.HasPrefix(line, "      -")
}

// isTable: every line indented, with two columns ("  none, off   never ...").
func isTable(para []string) bool {
	for _, line := range para {
		if !strings.HasPrefix(line, "  ") || !strings.Contains(strings.TrimSpace(line), "  ") {
			return false
		}
	}
	return true
}

func paras(texts []string) []gendoc.Block {
	var out []gendoc.Block
	for _, t := range texts {
		out = append(out, gendoc.Para(t))
	}
	return out
}

// helpOptions turns --help's entries into the model's options, checking
// each against the parser's table: the names and whether each takes an
// argument must be the table's. The table's options that --help does not
// show (cp's old --path) are hidden ones.
func helpOptions(entries []helpEntry) ([]gendoc.Option, error) {
	var opts []gendoc.Option
	shown := map[string]bool{}
	for _, e := range entries {
		o := gendoc.Option{Help: strings.Join(strings.Fields(e.text), " "), Group: e.group}
		for _, name := range strings.Split(e.names, ", ") {
			if long, ok := strings.CutPrefix(name, "--"); ok {
				if l, a, ok := strings.Cut(long, "[="); ok { // --backup[=CONTROL]
					long, o.Arg, o.OptionalArg = l, strings.TrimSuffix(a, "]"), true
				} else {
					long, o.Arg, _ = strings.Cut(long, "=") // --suffix=SUFFIX
				}
				o.Long = long
				continue
			}
			if len(name) != 2 || name[0] != '-' {
				return nil, fmt.Errorf("--help: %q: not an option name", name)
			}
			o.Short += name[1:]
		}
		if err := checkAgainstTable(o); err != nil {
			return nil, err
		}
		if o.Long != "" {
			shown[o.Long] = true
		}
		o.Choices, o.ChoiceList, o.Complete = argumentWords(o.Long)
		opts = append(opts, o)
	}
	for _, l := range longOpts {
		if !shown[l.name] {
			opts = append(opts, gendoc.Option{Long: l.name, Hidden: true})
		}
	}
	return opts, nil
}

// checkAgainstTable fails if the option's entry in --help does not say
// what the parser's table says of its names.
func checkAgainstTable(o gendoc.Option) error {
	if o.Long != "" {
		i := slices.IndexFunc(longOpts, func(l longOpt) bool { return l.name == o.Long })
		if i < 0 {
			return fmt.Errorf("--help shows --%s, which the parser does not know", o.Long)
		}
		want := noArg
		switch {
		case o.OptionalArg:
			want = optionalArg
		case o.Arg != "":
			want = requiredArg
		}
		if longOpts[i].arg != want {
			return fmt.Errorf("--help shows --%s with argument %q (optional %v), unlike the parser's table", o.Long, o.Arg, o.OptionalArg)
		}
	}
	for _, c := range o.Short {
		k := strings.IndexRune(shortOpts, c)
		if k < 0 || c == ':' {
			return fmt.Errorf("--help shows -%c, which the parser does not know", c)
		}
		// A long option's mandatory argument is the short option's too.
		takes := k+1 < len(shortOpts) && shortOpts[k+1] == ':'
		if takes != (o.Arg != "" && !o.OptionalArg) {
			return fmt.Errorf("--help shows -%c with argument %q, unlike the parser's table", c, o.Arg)
		}
	}
	return nil
}

// argumentWords is what a long option's argument may be: the words
// argmatch accepts for it, or, for a directory, that.
func argumentWords(long string) (choices []string, list bool, complete gendoc.Complete) {
	switch long {
	case "backup":
		return words(backupChoices), false, 0
	case "reflink":
		return words(reflinkChoices), false, 0
	case "sparse":
		return words(sparseChoices), false, 0
	case "update":
		return words(updateChoices), false, 0
	case "progress":
		return words(progressChoices), false, 0
	case "preserve", "no-preserve":
		return words(preserveChoices), true, 0
	case "target-directory":
		return nil, false, gendoc.CompleteDirectory
	}
	return nil, false, gendoc.CompleteNothing
}

func words[T comparable](choices []choice[T]) []string {
	var w []string
	for _, c := range choices {
		w = append(w, c.word)
	}
	return w
}
