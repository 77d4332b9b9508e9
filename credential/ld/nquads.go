package ld

import "strings"

// writeQuad writes q as one line of canonical N-Quads, ending in "\n",
// naming each blank node label(l).
func writeQuad(sb *strings.Builder, q quad, label func(string) string) {
	writeTerm(sb, q.s, label)
	sb.WriteByte(' ')
	writeTerm(sb, q.p, label)
	sb.WriteByte(' ')
	writeTerm(sb, q.o, label)
	if q.g.kind != kindNone {
		sb.WriteByte(' ')
		writeTerm(sb, q.g, label)
	}
	sb.WriteString(" .\n")
}

func writeTerm(sb *strings.Builder, t term, label func(string) string) {
	switch t.kind {
	case kindIRI:
		// IRIs are written as they are: absoluteIRI has rejected every
		// character an IRIREF cannot hold.
		sb.WriteByte('<')
		sb.WriteString(t.value)
		sb.WriteByte('>')
	case kindBlank:
		sb.WriteString("_:")
		sb.WriteString(label(t.value))
	case kindLiteral:
		sb.WriteByte('"')
		escapeLiteral(sb, t.value)
		sb.WriteByte('"')
		switch {
		case t.lang != "":
			sb.WriteByte('@')
			sb.WriteString(t.lang)
		case t.datatype != "" && t.datatype != xsdString:
			sb.WriteString("^^<")
			sb.WriteString(t.datatype)
			sb.WriteByte('>')
		}
	}
}

const hexDigits = "0123456789ABCDEF"

// escapeLiteral writes s as the inside of a canonical N-Quads string
// literal (RDF 1.2 canonical N-Triples, which RDFC-1.0 uses): \b \t \n \f
// \r \" \\ as two-character escapes, the other characters U+0000–U+001F
// and U+007F as \uXXXX with uppercase hex, everything else as itself.
// All of these are ASCII, so s can be scanned byte by byte.
func escapeLiteral(sb *strings.Builder, s string) {
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		var esc string
		switch c {
		case '\b':
			esc = `\b`
		case '\t':
			esc = `\t`
		case '\n':
			esc = `\n`
		case '\f':
			esc = `\f`
		case '\r':
			esc = `\r`
		case '"':
			esc = `\"`
		case '\\':
			esc = `\\`
		default:
			if c >= 0x20 && c != 0x7f {
				continue
			}
		}
		sb.WriteString(s[start:i])
		if esc != "" {
			sb.WriteString(esc)
		} else {
			sb.WriteString(`\u00`)
			sb.WriteByte(hexDigits[c>>4])
			sb.WriteByte(hexDigits[c&0xf])
		}
		start = i + 1
	}
	sb.WriteString(s[start:])
}
