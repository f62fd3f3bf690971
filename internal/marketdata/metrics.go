package marketdata

// Counters is a point-in-time copy of the publisher's counters.
type Counters struct {
	// EventsPublished were handed over by Publish; EventsApplied were applied
	// by Run or Apply; EventsOverflowed were dropped because the ring was full.
	EventsPublished, EventsApplied, EventsOverflowed uint64
	// Gaps counts OutSeq jumps (events lost before they reached Publish).
	Gaps uint64
	// SlowResyncs counts subscribers sent a snapshot because their queue was full.
	SlowResyncs uint64
	// Subscribers is the number of connected WebSocket clients and FIX sessions
	// with subscriptions.
	Subscribers int64
}

// Counters returns the current counters. It takes no lock.
func (p *Publisher) Counters() Counters {
	return Counters{
		EventsPublished:  p.head.Load(),
		EventsApplied:    p.applied.Load(),
		EventsOverflowed: p.overflows.Load(),
		Gaps:             p.gaps.Load(),
		SlowResyncs:      p.resyncs.Load(),
		Subscribers:      p.subscribed.Load(),
	}
}

// Wiring the counters into Prometheus (kept out of this package because the
// module's go.sum does not yet hold client_golang's own dependencies):
//
//	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
//		Name: "exchange_marketdata_slow_subscriber_resyncs_total"},
//		func() float64 { return float64(pub.Counters().SlowResyncs) }))
