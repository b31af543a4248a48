//go:build linux

package cpmsg

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"strings"
	"sync"
)

// LocaleIsUTF8 reports whether setlocale(LC_ALL, "") would give cp a
// UTF-8 character set: LC_ALL, else LC_CTYPE, else LANG names a UTF-8
// locale that exists (C.UTF-8 is built into glibc; others are installed).
// Elsewhere (the C locale, or a locale that is named but not installed,
// which setlocale refuses) cp takes every byte past 0x7f for unprintable.
// The answer is kept while the variable it came from stays the same.
func LocaleIsUTF8() bool {
	name := ""
	for _, v := range []string{"LC_ALL", "LC_CTYPE", "LANG"} {
		if name = os.Getenv(v); name != "" {
			break
		}
	}
	localeMu.Lock()
	defer localeMu.Unlock()
	if !localeKnown || name != localeName {
		localeName, localeUTF8, localeKnown = name, localeNamesUTF8(name), true
	}
	return localeUTF8
}

var (
	localeMu    sync.Mutex
	localeKnown bool
	localeName  string // the name LocaleIsUTF8 last judged
	localeUTF8  bool
)

// localeNamesUTF8 reports whether the locale name is UTF-8 and exists.
func localeNamesUTF8(name string) bool {
	lang, codeset, ok := strings.Cut(name, ".")
	if !ok {
		return false
	}
	codeset, modifier, _ := strings.Cut(codeset, "@")
	norm := strings.ToLower(strings.ReplaceAll(codeset, "-", ""))
	if norm != "utf8" {
		return false
	}
	if lang == "C" {
		return true
	}
	normal := lang + ".utf8"
	if modifier != "" {
		normal += "@" + modifier
	}
	for _, n := range []string{name, normal} {
		if _, err := os.Stat("/usr/lib/locale/" + n + "/LC_CTYPE"); err == nil {
			return true
		}
	}
	return archiveHasLocale("/usr/lib/locale/locale-archive", normal)
}

// archiveHasLocale reports whether glibc's locale archive holds name. Its
// header gives the offset and length of a table of NUL-terminated names.
func archiveHasLocale(path, name string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var head [8]uint32 // magic, serial, namehash offset/used/size, string offset/used/size
	if err := binary.Read(f, binary.NativeEndian, &head); err != nil || head[0] != 0xde020109 {
		return false
	}
	table := make([]byte, min(head[6], 1<<20))
	if _, err := f.ReadAt(table, int64(head[5])); err != nil && err != io.EOF {
		return false
	}
	return bytes.Contains(append([]byte{0}, table...), append(append([]byte{0}, name...), 0))
}
