// Package gendoc renders a command's manual page (roff for man(7)) and its
// bash, zsh and fish completion scripts from one neutral description of
// the command, so that the four never drift from each other or from
// --help: each command builds its Model from the very tables its parser
// and its --help text are made of, and tests hold them to each other.
//
// Why not mango-kong and kongplete: cowcp no longer has a kong model. Kong
// cannot read a command line as GNU getopt_long reads cp's (any
// unambiguous prefix of a long option, optional arguments only after '=',
// cp's exit status 1 for a usage error), so cowcp parses with its own
// getopt_long and prints cp's --help layout from its own text. Generating
// cowcp's documents from that, and cowdu's from kong's model, through one
// small generator keeps the two pages and the six completions alike in
// form, with one place to fix a rendering bug.
//
// The generator itself (Main) is built only with the gendocs tag: release
// binaries never contain it, and the renderers, unreferenced there, are
// left out by the linker.
package gendoc

// Model is what a command's documents say about it.
type Model struct {
	Name    string // the command: "cowcp"
	Summary string // the NAME line's words after the dash
	// Synopsis is the usage lines, each starting with Name.
	Synopsis    []string
	Description []Block
	Options     []Option
	// OptionNotes follow the options in the OPTIONS section, as the
	// paragraphs after the option list of --help.
	OptionNotes []Block
	// Operands is what the command's non-option arguments are.
	Operands Complete
	// Sections follow OPTIONS in the manual page, in this order.
	Sections []Section

	// Package, Version and Date are the release the page belongs to, for
	// the page's header: given, never read from the clock, so that the
	// same release renders the same page.
	Package string // "cowcp", for both commands
	Version string // "v1.2.3"
	Date    string // "2026-11-30"
}

// Option is one entry of the option list: one line of --help.
type Option struct {
	Short string // the short letters that mean this, in order ("Rr"); "" if none
	Long  string // the long name without "--"; "" if none
	// Arg names the option's argument ("WHEN"), "" if it takes none.
	Arg string
	// OptionalArg: the argument may be left out, and is given only as
	// --long=ARG.
	OptionalArg bool
	// Choices are the words the argument may be; ChoiceList says it is a
	// comma-separated list of them.
	Choices    []string
	ChoiceList bool
	// Complete is what an argument without Choices names.
	Complete Complete
	Help     string // what --help says, in one paragraph
	// Group titles the options after the first that has it, as a
	// subsection ("cowcp's own options"); "" for the command's main list.
	Group string
	// Hidden options are read but not shown (cp's old --path).
	Hidden bool
}

// Complete is what a word names, for completion.
type Complete int

const (
	CompleteNothing   Complete = iota // free text: nothing to offer
	CompleteFile                      // any file
	CompleteDirectory                 // a directory
)

// Section is a manual page section after OPTIONS.
type Section struct {
	Title  string // "EXIT STATUS"
	Blocks []Block
}

// Block is a paragraph, preformatted text, a list of terms and their
// meanings, or a list of bullets. In text, `code` is set in bold.
type Block struct {
	Text    string   // a paragraph, filled
	Pre     string   // lines shown as they are
	Items   []Item   // terms and what they mean
	Bullets []string // paragraphs, each after a bullet
}

// Item is a term and what it means.
type Item struct {
	Term string // `code` is bold here too
	Text string
}

// Para is a paragraph.
func Para(text string) Block { return Block{Text: text} }

// Pre is text shown as it is: examples, a terminal's output.
func Pre(text string) Block { return Block{Pre: text} }

// List is a list of terms and their meanings.
func List(items ...Item) Block { return Block{Items: items} }

// Bullets is a list of paragraphs.
func Bullets(paragraphs ...string) Block { return Block{Bullets: paragraphs} }

// visible are the options shown in documents.
func (m *Model) visible() []Option {
	var out []Option
	for _, o := range m.Options {
		if !o.Hidden {
			out = append(out, o)
		}
	}
	return out
}

// Names are the option's names as typed: "-R", "-r", "--recursive".
func (o Option) Names() []string {
	var names []string
	for _, c := range o.Short {
		names = append(names, "-"+string(c))
	}
	if o.Long != "" {
		names = append(names, "--"+o.Long)
	}
	return names
}
