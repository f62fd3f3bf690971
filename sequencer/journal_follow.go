package sequencer

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Resume lets a Reader that returned io.EOF continue once the journal has
// grown, so that one reader can follow a journal another goroutine or process
// is writing. It lists the segments again and reopens the segment it stopped
// in at the first byte it has not consumed (a torn tail is read again: it was
// a write in progress); when that segment holds nothing more and a newer one
// exists, Next moves on to it. After Resume, Next returns the new records, or
// io.EOF again when there are none. Any other error stays: a reader that found
// damage does not resume. It costs one directory listing and one stat, plus an
// open when the segment grew.
func (r *Reader) Resume() error {
	if r.err == nil {
		return nil
	}
	if !errors.Is(r.err, io.EOF) {
		return r.err
	}
	segs, err := listSegments(r.jdir)
	if err != nil {
		return err
	}
	cur := min(r.idx, len(r.segs)-1) // Next steps past the last segment it consumed
	if cur < 0 {
		// The journal had no segment when the reader was opened.
		r.segs, r.idx, r.err = segs, 0, nil
		return nil
	}
	first := r.segs[cur].firstSeq
	at := -1
	for i, s := range segs {
		if s.firstSeq == first {
			at = i
			break
		}
	}
	if at < 0 {
		return fmt.Errorf("journal %s: the segment being followed disappeared", r.segs[cur].path)
	}
	r.Close()
	r.segs, r.err, r.torn = segs, nil, TornTail{}
	if r.off < segmentHeaderSize {
		// Stopped before the header was whole: Next opens and checks it again.
		r.idx, r.off = at, 0
		return nil
	}
	fi, err := os.Stat(segs[at].path)
	if err != nil {
		return fmt.Errorf("journal %s: %w", segs[at].path, err)
	}
	if fi.Size() > r.off {
		return r.reopen(at, r.off)
	}
	// Complete: Next moves to the newer segment, or returns io.EOF again.
	r.idx = at + 1
	return nil
}

// reopen opens segs[i] again at offset off, past its header (checked when it
// was first opened).
func (r *Reader) reopen(i int, off int64) error {
	r.idx = i
	f, err := os.Open(r.segs[i].path)
	if err != nil {
		return fmt.Errorf("journal %s: %w", r.segs[i].path, err)
	}
	st, err := f.Stat()
	if err == nil {
		_, err = f.Seek(off, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("journal %s: %w", r.segs[i].path, err)
	}
	r.f, r.size, r.off = f, st.Size(), off
	r.br.Reset(f)
	return nil
}
