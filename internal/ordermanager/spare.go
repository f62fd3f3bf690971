package ordermanager

// A table's growth allocates slots twice its size: tens of megabytes at
// millions of orders. Allocated while the collector runs, that makes the
// allocating goroutine assist it in proportion to the size, which held the
// order manager for about 60 ms at 2 M resting orders (`exchange bench
// --only memory`; none with GOGC=off). So the next growth's slots are made
// on a goroutine of their own once a table is five eighths full (it grows at
// three quarters), and the growth takes them.
//
// The spare slots are not prefaulted (internal/prefault) on that goroutine:
// populating tens of megabytes in one madvise call held the order manager's
// and the engine's own page faults behind it (longest call at 2 M resting
// orders 35.6 ms and 22.1 ms with it, 7.0 ms and 6.6 ms without, quiet host).

// spareMin is the smallest table whose growth is prepared on another
// goroutine: below it new slots cost less than starting one.
const spareMin = 1 << 15

// needSpare reports whether a table of size slots holding n entries should
// have its next growth's slots prepared.
func needSpare(n, size int) bool { return size >= spareMin && 8*n > 5*size }

// spareSlots brings zeroed slots for a table's next growth.
type spareSlots[S any] struct {
	ch      chan []S
	pending bool // asked for and not yet taken
}

// prepare asks for size slots, unless already asked.
func (p *spareSlots[S]) prepare(size int) {
	if p.pending {
		return
	}
	if p.ch == nil {
		p.ch = make(chan []S, 1)
	}
	p.pending = true
	go func(ch chan<- []S) { ch <- make([]S, size) }(p.ch)
}

// take returns size zeroed slots: the prepared ones when they have arrived
// and fit, else new ones made here (prepared ones that arrive later are
// taken, and dropped if they do not fit, at the next growth).
func (p *spareSlots[S]) take(size int) []S {
	if p.pending {
		select {
		case s := <-p.ch:
			p.pending = false
			if len(s) == size {
				return s
			}
		default:
		}
	}
	return make([]S, size)
}
