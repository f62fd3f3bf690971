package fixsession

import (
	"bytes"
	_ "embed"
	"fmt"
	"sync"

	"github.com/quickfixgo/quickfix/datadictionary"
)

// The FIX 4.2 and 4.4 data dictionaries are QuickFIX's (spec/, with its
// licence notice beside them, spec/LICENSE-QuickFIX). They are read once,
// by QuickFIX/Go's datadictionary package, into the flat tables below, so
// that checking a message costs array and map look-ups and no allocation.

//go:embed spec/FIX42.xml
var fix42XML []byte

//go:embed spec/FIX44.xml
var fix44XML []byte

// fieldKind is what a field's value must look like.
type fieldKind uint8

const (
	kindUndefined fieldKind = iota
	kindString              // anything (STRING, DATA, CURRENCY, EXCHANGE, MONTHYEAR, ...)
	kindInt                 // optional '-', digits
	kindUint                // digits (LENGTH, SEQNUM, NUMINGROUP)
	kindFloat               // optional '-', digits with at most one '.', at least one digit
	kindChar                // one character
	kindBool                // Y or N
	kindTimestamp           // UTCTimestamp
	kindDate                // YYYYMMDD
	kindTimeOnly            // HH:MM:SS[.s...]
	kindMulti               // space-separated values, each from the enum when there is one
)

// dictionary is one FIX version's data dictionary as flat tables.
type dictionary struct {
	kind    []fieldKind           // by tag
	enum    []map[string]struct{} // by tag; nil: any value of the kind
	header  bitset                // header fields
	trailer bitset                // trailer fields
	msgs    map[string]*msgDef    // by MsgType
	hdrReq  []int                 // required header fields after 8, 9, 35
	hdrGrp  map[int]*groupDef     // the header's repeating groups (NoHops)
	// numInGroup holds the NumInGroup tags: only those are looked up in
	// hdrGrp and msgDef.groups.
	numInGroup bitset
	msgs1      [128]*msgDef // by one-character MsgType, the common case
	// charEnum holds, by tag, the values of a CHAR field's enumeration as a
	// 256-bit set (nil: not a CHAR enumeration); checked without a map.
	charEnum []*[4]uint64
}

// msgDef is what one message type may carry.
type msgDef struct {
	admin    bool
	tags     bitset            // every body tag defined for it, group members included
	required []int             // required top-level body fields
	groups   map[int]*groupDef // by NumInGroup tag (top level)
}

// groupDef is one repeating group: its first field (which starts every
// entry) and every field an entry may carry (nested groups' included).
type groupDef struct {
	delim   int
	members bitset
	nested  map[int]*groupDef
}

// bitset is a set of tags.
type bitset []uint64

func newBitset(max int) bitset { return make(bitset, max/64+1) }

func (b bitset) has(t int) bool {
	return t >= 0 && t/64 < len(b) && b[t/64]&(1<<(uint(t)%64)) != 0
}

func (b bitset) add(t int) {
	if t >= 0 && t/64 < len(b) {
		b[t/64] |= 1 << (uint(t) % 64)
	}
}

var (
	dictsOnce sync.Once
	dicts     map[string]*dictionary
	dictsErr  error
)

// dictionaryFor returns the dictionary of a BeginString (nil for a version
// without one: its messages are not checked against a dictionary).
func dictionaryFor(beginString string) (*dictionary, error) {
	dictsOnce.Do(func() {
		dicts = map[string]*dictionary{}
		for _, v := range []struct {
			begin string
			src   []byte
		}{{"FIX.4.2", fix42XML}, {"FIX.4.4", fix44XML}} {
			dd, err := datadictionary.ParseSrc(bytes.NewReader(v.src))
			if err != nil {
				dictsErr = fmt.Errorf("fixsession: dictionary %s: %w", v.begin, err)
				return
			}
			dicts[v.begin] = buildDictionary(dd)
		}
	})
	return dicts[beginString], dictsErr
}

func kindOf(fixType string) fieldKind {
	switch fixType {
	case "INT", "DAYOFMONTH":
		return kindInt
	case "LENGTH", "SEQNUM", "NUMINGROUP", "TAGNUM":
		return kindUint
	case "FLOAT", "QTY", "QUANTITY", "PRICE", "PRICEOFFSET", "AMT", "PERCENTAGE":
		return kindFloat
	case "CHAR":
		return kindChar
	case "BOOLEAN":
		return kindBool
	case "UTCTIMESTAMP", "TIME":
		return kindTimestamp
	case "UTCDATEONLY", "UTCDATE", "LOCALMKTDATE", "DATE":
		return kindDate
	case "UTCTIMEONLY":
		return kindTimeOnly
	case "MULTIPLEVALUESTRING", "MULTIPLECHARVALUE", "MULTIPLESTRINGVALUE":
		return kindMulti
	}
	return kindString
}

func buildDictionary(dd *datadictionary.DataDictionary) *dictionary {
	maxTag := 0
	for t := range dd.FieldTypeByTag {
		maxTag = max(maxTag, t)
	}
	d := &dictionary{
		kind:       make([]fieldKind, maxTag+1),
		enum:       make([]map[string]struct{}, maxTag+1),
		charEnum:   make([]*[4]uint64, maxTag+1),
		header:     newBitset(maxTag),
		trailer:    newBitset(maxTag),
		msgs:       map[string]*msgDef{},
		hdrGrp:     map[int]*groupDef{},
		numInGroup: newBitset(maxTag),
	}
	for t, ft := range dd.FieldTypeByTag {
		d.kind[t] = kindOf(ft.Type)
		if ft.Type == "NUMINGROUP" {
			d.numInGroup.add(t)
		}
		if len(ft.Enums) > 0 {
			e := make(map[string]struct{}, len(ft.Enums))
			for v := range ft.Enums {
				e[v] = struct{}{}
			}
			d.enum[t] = e
			if d.kind[t] == kindChar {
				set := new([4]uint64)
				for v := range ft.Enums {
					if len(v) == 1 {
						set[v[0]/64] |= 1 << (v[0] % 64)
					}
				}
				d.charEnum[t] = set
			}
		}
	}
	for t, f := range dd.Header.Fields {
		d.header.add(t)
		for _, c := range allTags(f) {
			d.header.add(c)
		}
		if f.IsGroup() {
			d.hdrGrp[t] = buildGroup(f, maxTag)
		}
		if f.Required() && t != 8 && t != 9 && t != 35 {
			d.hdrReq = append(d.hdrReq, t)
		}
	}
	sortInts(d.hdrReq)
	for t := range dd.Trailer.Fields {
		d.trailer.add(t)
	}
	for mt, md := range dd.Messages {
		m := &msgDef{tags: newBitset(maxTag), groups: map[int]*groupDef{}}
		switch mt {
		case "0", "1", "2", "3", "4", "5", "A":
			m.admin = true
		}
		for t := range md.Tags {
			m.tags.add(t)
		}
		for t, f := range md.Fields {
			if f.IsGroup() {
				m.groups[t] = buildGroup(f, maxTag)
			}
		}
		for t := range md.RequiredTags {
			m.required = append(m.required, t)
		}
		sortInts(m.required)
		d.msgs[mt] = m
		if len(mt) == 1 && mt[0] < 128 {
			d.msgs1[mt[0]] = m
		}
	}
	return d
}

func buildGroup(f *datadictionary.FieldDef, maxTag int) *groupDef {
	g := &groupDef{delim: f.Fields[0].Tag(), members: newBitset(maxTag), nested: map[int]*groupDef{}}
	for _, c := range f.Fields {
		g.members.add(c.Tag())
		for _, cc := range allTags(c) {
			g.members.add(cc)
		}
		if c.IsGroup() {
			g.nested[c.Tag()] = buildGroup(c, maxTag)
		}
	}
	return g
}

// allTags lists the tags of a group's fields, nested groups' included.
func allTags(f *datadictionary.FieldDef) []int {
	var out []int
	for _, c := range f.Fields {
		out = append(out, c.Tag())
		out = append(out, allTags(c)...)
	}
	return out
}

func sortInts(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}
