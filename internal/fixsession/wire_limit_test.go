package fixsession

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// TestFrameTooLarge: a correctly framed message above msgBytesMax is refused
// as too large, naming the limit, not as a bad BodyLength.
func TestFrameTooLarge(t *testing.T) {
	for _, n := range []int{msgBytesMax + 1, 1 << 20, 123456789} {
		body := "35=D\x0158=" + strings.Repeat("x", max(0, n-len("35=D\x0158=\x01"))) + "\x01"
		if n > 1<<21 {
			body = body[:64] // the header alone must be enough to refuse it
		}
		msg := "8=FIX.4.4\x019=" + strconv.Itoa(n) + "\x01" + body
		_, err := Frame([]byte(msg))
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("BodyLength %d: %v, want ErrTooLarge", n, err)
		}
		if !strings.Contains(err.Error(), strconv.Itoa(msgBytesMax)) {
			t.Errorf("BodyLength %d: %q does not name the limit", n, err)
		}
	}
	if _, err := Frame([]byte("8=FIX.4.4\x019=12345678901\x01")); !errors.Is(err, ErrTooLarge) {
		t.Errorf("11-digit BodyLength: %v", err)
	}
}
