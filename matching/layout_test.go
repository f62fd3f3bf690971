package matching

import (
	"testing"
	"unsafe"
)

// TestLayoutSizes keeps the engine's per-order and per-event memory from
// growing unnoticed: every resting order costs an order, and every event is
// written into the caller's buffer on the hot path. Fields that only some
// orders need belong in orderExt.
func TestLayoutSizes(t *testing.T) {
	if n := unsafe.Sizeof(order{}); n > 88 {
		t.Errorf("order is %d bytes, want at most 88", n)
	}
	if n := unsafe.Sizeof(Event{}); n > 104 {
		t.Errorf("Event is %d bytes, want at most 104", n)
	}
	if n := unsafe.Sizeof(orderExt{}); n > 48 {
		t.Errorf("orderExt is %d bytes, want at most 48", n)
	}
}
