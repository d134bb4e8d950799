//go:build exercises

// The tests of this stage's open exercises (README.md, "Exercises"). They
// fail until the exercise is solved:
//
//	go test -tags exercises -run TestExerciseIdleTimeout .

package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"testing"
	"time"
)

// TestExerciseIdleTimeout: echo closes a connection that has sent nothing
// for a second, and keeps one open for as long as its client goes on
// sending. The silence is measured per read, from the last bytes that came.
func TestExerciseIdleTimeout(t *testing.T) {
	addr := startServer(t, echo)

	t.Run("silent_client_is_closed", func(t *testing.T) {
		conn := dial(t, addr)
		conn.SetReadDeadline(time.Now().Add(3 * time.Second))
		n, err := conn.Read(make([]byte, 1))
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatal("got no EOF after 3 s of silence; want the server to close within about 1 s")
		}
		if n != 0 || err != io.EOF {
			t.Errorf("read from a silent connection = %d bytes, %v; want 0 bytes, EOF", n, err)
		}
	})

	t.Run("talking_client_stays", func(t *testing.T) {
		conn := dial(t, addr)
		// Eight lines, 200 ms apart: 1.6 s in all, longer than the idle
		// timeout, with no gap as long as it.
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for i := range 8 {
			<-tick.C
			assertEcho(t, conn, fmt.Sprintf("line %d\n", i+1))
		}
	})
}
