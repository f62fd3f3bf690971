package matching

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"testing"
)

// genCommands returns n random commands from the differential test's
// generator (steered by the reference model).
func genCommands(seed uint64, n int) []Command {
	ref := newRefModel(3)
	g := newCmdGen(seed, ref)
	cmds := make([]Command, n)
	for i := range cmds {
		cmds[i] = g.next()
		ref.apply(cmds[i])
	}
	return cmds
}

func run(e *Engine, h *Hasher, cmds []Command) {
	var out []Event
	for i := range cmds {
		out = e.Apply(&cmds[i], out[:0])
		for j := range out {
			h.Add(&out[j])
		}
	}
}

// TestDeterminism runs the same stream on two engines sized differently, so
// that pools and maps are laid out differently, and requires the same event
// hash and state hash.
func TestDeterminism(t *testing.T) {
	cmds := genCommands(7, 50_000)
	a, b := New(Config{Symbols: 3, OrdersHint: 1}), New(Config{Symbols: 3, OrdersHint: 100_000})
	ha, hb := NewHasher(), NewHasher()
	run(a, &ha, cmds)
	run(b, &hb, cmds)
	if ha.Sum() != hb.Sum() || a.StateHash() != b.StateHash() {
		t.Fatalf("event hashes %x %x, state hashes %x %x", ha.Sum(), hb.Sum(), a.StateHash(), b.StateHash())
	}
	// A different stream must give a different hash, or the check is empty.
	c := New(Config{Symbols: 3})
	hc := NewHasher()
	run(c, &hc, cmds[:len(cmds)-1])
	if hc.Sum() == ha.Sum() && c.StateHash() == a.StateHash() && c.OutSeq() == a.OutSeq() {
		t.Fatal("a shorter stream hashed the same")
	}
}

// TestSnapshotResume takes snapshots mid-stream, restores them and requires
// the restored engine to continue exactly like the original: same events
// (and so the same running hash), same state hash, same snapshot bytes.
func TestSnapshotResume(t *testing.T) {
	cmds := genCommands(11, 40_000)
	e := New(Config{Symbols: 3})
	h := NewHasher()
	var out, out2 []Event
	for i := range cmds {
		if i%5_000 == 2_500 {
			snap := e.AppendSnapshot(nil)
			r, err := Restore(snap)
			if err != nil {
				t.Fatalf("command %d: %v", i, err)
			}
			checkInvariants(t, r)
			if again := r.AppendSnapshot(nil); !bytes.Equal(again, snap) {
				t.Fatalf("command %d: snapshot of the restored engine differs", i)
			}
			if r.StateHash() != e.StateHash() || r.OutSeq() != e.OutSeq() {
				t.Fatalf("command %d: state hash or OutSeq differs after restore", i)
			}
			// Continue both for a while, event for event.
			hr := NewHasher()
			hr.SetSum(h.Sum())
			ho := h
			for j := i; j < min(i+3_000, len(cmds)); j++ {
				out = e.Apply(&cmds[j], out[:0])
				out2 = r.Apply(&cmds[j], out2[:0])
				if !slices.Equal(out, out2) {
					t.Fatalf("command %d after restore at %d:\noriginal:%s\nrestored:%s", j, i, fmtEvents(out), fmtEvents(out2))
				}
				for k := range out {
					ho.Add(&out[k])
					hr.Add(&out2[k])
				}
			}
			if ho.Sum() != hr.Sum() || e.StateHash() != r.StateHash() {
				t.Fatalf("restore at %d: hashes diverged", i)
			}
			// Rewind the original: rebuild it from the snapshot so the main
			// loop carries on from command i.
			e, _ = Restore(snap)
		}
		out = e.Apply(&cmds[i], out[:0])
		for k := range out {
			h.Add(&out[k])
		}
	}
	if e.OpenOrders() == 0 {
		t.Fatal("stream ended with an empty book; the snapshots proved little")
	}
}

// TestRestoreRejects feeds Restore broken snapshots; each must give an error
// wrapping ErrSnapshot.
func TestRestoreRejects(t *testing.T) {
	e := New(Config{Symbols: 2})
	applyAll(t, e, []Command{nw(1, 1, B, 100, 5), nw(2, 2, S, 101, 5), nw(3, 2, S, 102, 5, withSym(2)), nw(4, 1, B, 99, 5)})
	good := e.AppendSnapshot(nil)
	if _, err := Restore(good); err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(good); n++ {
		if _, err := Restore(good[:n]); !errors.Is(err, ErrSnapshot) {
			t.Fatalf("prefix of %d bytes: err %v", n, err)
		}
	}
	// Offsets into the first order record of symbol 1's bids.
	o := snapHeaderSize + snapBookSize + snapSideHeadSize
	edits := map[string]func(b []byte) []byte{
		"trailing byte":   func(b []byte) []byte { return append(b, 0) },
		"magic":           func(b []byte) []byte { b[0] = 'X'; return b },
		"version":         func(b []byte) []byte { b[4] = 9; return b },
		"symbols":         func(b []byte) []byte { binary.LittleEndian.PutUint32(b[8:], 1<<30); return b },
		"halt flag":       func(b []byte) []byte { b[snapHeaderSize] = 2; return b },
		"order count":     func(b []byte) []byte { binary.LittleEndian.PutUint64(b[snapHeaderSize+snapBookSize:], 1<<62); return b },
		"phase":           func(b []byte) []byte { b[snapHeaderSize+1] = 9; return b },
		"type":            func(b []byte) []byte { b[o+51] = byte(Stop); return b },
		"display":         func(b []byte) []byte { binary.LittleEndian.PutUint64(b[o+60:], 2); return b },
		"market":          func(b []byte) []byte { b[o+51] = byte(Market); return b },
		"expiry":          func(b []byte) []byte { binary.LittleEndian.PutUint64(b[o+76:], 2); return b },
		"order id 0":      func(b []byte) []byte { binary.LittleEndian.PutUint64(b[o:], 0); return b },
		"duplicate id":    func(b []byte) []byte { binary.LittleEndian.PutUint64(b[o:], 4); return b },
		"price 0":         func(b []byte) []byte { binary.LittleEndian.PutUint64(b[o+16:], 0); return b },
		"crossed":         func(b []byte) []byte { binary.LittleEndian.PutUint64(b[o+16:], 101); return b },
		"priority order":  func(b []byte) []byte { binary.LittleEndian.PutUint64(b[o+16:], 98); return b },
		"qty mismatch":    func(b []byte) []byte { binary.LittleEndian.PutUint64(b[o+24:], 7); return b },
		"negative filled": func(b []byte) []byte { binary.LittleEndian.PutUint64(b[o+32:], ^uint64(0)); return b },
		"tif IOC":         func(b []byte) []byte { b[o+48] = byte(IOC); return b },
		"stp":             func(b []byte) []byte { b[o+49] = 9; return b },
		"post-only flag":  func(b []byte) []byte { b[o+50] = 3; return b },
	}
	for name, edit := range edits {
		if _, err := Restore(edit(slices.Clone(good))); !errors.Is(err, ErrSnapshot) {
			t.Errorf("%s: err %v", name, err)
		}
	}
}
