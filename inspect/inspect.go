// Package inspect renders any DER blob setpay produces — a SET message, a
// certificate, a PKCS#7 / CMS structure — as a tree that names SET types and
// fields, like `openssl asn1parse` but in the specification's vocabulary.
//
// It is a reading aid, not a validator: it never rejects a well-formed DER
// tree because it does not match a schema; unmatched parts are shown by
// their universal types. Malformed DER is an error.
package inspect

import (
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"io"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/setpay/setpay/internal/der"
)

// Node is one element of the tree.
type Node struct {
	Field    string  `json:"field,omitempty"` // component name as the specification spells it
	Type     string  `json:"type,omitempty"`  // ASN.1 / SET type name, when known
	Tag      string  `json:"tag"`
	Offset   int     `json:"offset"`
	Length   int     `json:"length"` // contents length
	Header   int     `json:"header"` // identifier + length octets
	Value    string  `json:"value,omitempty"`
	Children []*Node `json:"children,omitempty"`
}

// maxDepth bounds recursion so hostile nesting cannot exhaust the stack.
const maxDepth = 64

// Inspect decodes b, which must be exactly one DER element, and names what
// it recognises. typeHint names the top-level type when the caller knows it
// ("" to detect).
func Inspect(b []byte, typeHint string) (*Node, error) {
	e, err := der.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("inspect: %w", err)
	}
	d := &decoder{base: b}
	typ := typeHint
	if typ == "" {
		typ = detect(e)
	}
	return d.node(e, 0, field{typ: typ, ctx: -1})
}

type decoder struct {
	base []byte
}

func (d *decoder) offset(e der.Element) int {
	// Elements are sub-slices of base; their position is recovered from the
	// capacity difference, which is exact for slices of one backing array.
	return cap(d.base) - cap(e.Raw)
}

func (d *decoder) node(e der.Element, depth int, f field) (*Node, error) {
	n := &Node{
		Field:  f.name,
		Tag:    e.Tag.String(),
		Offset: d.offset(e),
		Length: len(e.Contents),
		Header: len(e.Raw) - len(e.Contents),
	}
	if depth > maxDepth {
		n.Value = "(nesting too deep; not expanded)"
		return n, nil
	}
	if f.explicit && e.Tag.Class == der.ClassContextSpecific && e.Tag.Constructed {
		if inner, err := der.Parse(e.Contents); err == nil {
			child, err := d.node(inner, depth+1, field{typ: f.typ, ctx: -1})
			if err != nil {
				return nil, err
			}
			n.Children = []*Node{child}
			return n, nil
		}
	}
	n.Type = f.typ
	s := schemaOf(f.typ)
	if s.choice != nil && e.Tag.Class == der.ClassContextSpecific && e.Tag.Constructed {
		if alt, ok := s.choice[e.Tag.Number]; ok {
			if inner, err := der.Parse(e.Contents); err == nil {
				alt.ctx = -1
				child, err := d.node(inner, depth+1, alt)
				if err != nil {
					return nil, err
				}
				n.Children = []*Node{child}
				return n, nil
			}
		}
	}
	if e.Tag.Constructed {
		kids, err := e.Children()
		if err != nil {
			return nil, err
		}
		fields := assign(s.fields, kids)
		if s.of != "" {
			for i := range fields {
				fields[i] = field{typ: s.of, ctx: -1}
			}
		}
		// An OBJECT IDENTIFIER followed by ANY names the type of the ANY.
		for i := 0; i+1 < len(kids); i++ {
			if kids[i].Tag != der.TagOID || fields[i+1].typ != "ANY" {
				continue
			}
			var oid asn1.ObjectIdentifier
			if _, err := asn1.Unmarshal(kids[i].Raw, &oid); err != nil {
				continue
			}
			if ct, ok := contentTypes[oid.String()]; ok {
				fields[i+1].typ = ct
			}
		}
		for i, k := range kids {
			child, err := d.node(k, depth+1, fields[i])
			if err != nil {
				return nil, err
			}
			n.Children = append(n.Children, child)
		}
		return n, nil
	}
	n.Value = primitiveValue(e)
	// OCTET STRINGs often carry DER: CMS eContent, SET's opaque blobs —
	// some under an [n] IMPLICIT tag, which is expanded when the
	// component's type is one inspect knows (installRecurData).
	known := s.fields != nil || s.choice != nil || s.of != ""
	if e.Tag == der.TagOctetString || (known && e.Tag.Class == der.ClassContextSpecific) {
		if inner, err := der.Parse(e.Contents); err == nil && inner.Tag.Constructed {
			hint := ""
			if known {
				hint = f.typ
			} else {
				hint = detect(inner)
			}
			if child, err := d.node(inner, depth+1, field{typ: hint, ctx: -1}); err == nil {
				n.Children = []*Node{child}
				n.Value = ""
			}
		}
	}
	return n, nil
}

func primitiveValue(e der.Element) string {
	switch e.Tag {
	case der.TagBoolean:
		if v, err := der.Boolean(e.Contents); err == nil {
			return fmt.Sprint(v)
		}
	case der.TagInteger, der.TagEnumerated:
		if len(e.Contents) > 0 && len(e.Contents) <= 16 {
			return new(big.Int).SetBytes(twos(e.Contents)).String()
		}
		return hexValue(e.Contents)
	case der.TagOID:
		var oid asn1.ObjectIdentifier
		if _, err := asn1.Unmarshal(e.Raw, &oid); err == nil {
			if name, ok := oidNames[oid.String()]; ok {
				return oid.String() + " (" + name + ")"
			}
			return oid.String()
		}
	case der.TagUTF8String, der.TagPrintableString, der.TagIA5String, der.TagVisibleString, der.TagNumericString:
		if utf8.Valid(e.Contents) {
			return fmt.Sprintf("%q", e.Contents)
		}
	case der.TagBMPString:
		if s, err := der.BMPString(e.Contents); err == nil {
			return fmt.Sprintf("%q", s)
		}
	case der.TagUTCTime, der.TagGeneralizedTime:
		layout := "20060102150405Z0700"
		if e.Tag == der.TagUTCTime {
			layout = "060102150405Z0700"
		}
		if t, err := time.Parse(layout, string(e.Contents)); err == nil {
			return t.UTC().Format(time.RFC3339)
		}
	case der.TagNull:
		return ""
	}
	return hexValue(e.Contents)
}

// twos returns the magnitude bytes for display; negative numbers are shown
// by the caller as hex rather than guessed at.
func twos(b []byte) []byte {
	if b[0]&0x80 != 0 {
		return nil
	}
	return b
}

func hexValue(b []byte) string {
	const max = 32
	if len(b) > max {
		return hex.EncodeToString(b[:max]) + fmt.Sprintf("… (%d bytes)", len(b))
	}
	return hex.EncodeToString(b)
}

// WriteText prints the tree, one element a line, indented by depth.
func (n *Node) WriteText(w io.Writer) error {
	return n.write(w, 0)
}

func (n *Node) write(w io.Writer, depth int) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%5d:%s", n.Offset, strings.Repeat("  ", depth))
	label := n.Tag
	if n.Field != "" && n.Type != "" {
		label = fmt.Sprintf("%s %s (%s)", n.Field, n.Type, n.Tag)
	} else if n.Field != "" {
		label = fmt.Sprintf("%s %s", n.Field, n.Tag)
	} else if n.Type != "" && n.Type != "ANY" {
		label = fmt.Sprintf("%s (%s)", n.Type, n.Tag)
	}
	b.WriteString(label)
	fmt.Fprintf(&b, " [%d]", n.Length)
	if n.Value != "" {
		b.WriteString(" = " + n.Value)
	}
	b.WriteByte('\n')
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	for _, c := range n.Children {
		if err := c.write(w, depth+1); err != nil {
			return err
		}
	}
	return nil
}
