package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// healthcheckTimeout bounds the whole probe: connect, ask, read the status
// line. It is shorter than the Dockerfile's HEALTHCHECK --timeout, so the
// probe ends with its own reason rather than be killed without one.
const healthcheckTimeout = 2 * time.Second

// healthcheck asks the server that c describes for /health and returns nil
// if it answers 200. It is the container's HEALTHCHECK: a minimal image has
// no curl, and this binary speaks HTTP without net/http, so it asks with
// the request this server reads, and reads the answer with readLine and
// parseVersion from request.go.
func healthcheck(c config) error {
	host := c.host
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1" // listening everywhere includes the loopback
	}
	addr := net.JoinHostPort(host, strconv.Itoa(c.port))
	deadline := time.Now().Add(healthcheckTimeout) // one for the whole probe
	conn, err := (&net.Dialer{Deadline: deadline}).Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(deadline)
	if _, err := io.WriteString(conn, "GET /health HTTP/1.1\r\nHost: "+addr+"\r\nConnection: close\r\n\r\n"); err != nil {
		return err
	}
	status, err := readStatus(bufio.NewReader(conn))
	if err != nil {
		return fmt.Errorf("reading the answer from %s: %w", addr, err)
	}
	if status != 200 {
		return fmt.Errorf("%s answered /health with %d", addr, status)
	}
	return nil
}

// errStatusLineTooLong is an answer whose first line goes on past any
// status line's length.
var errStatusLineTooLong = errors.New("status line too long")

// readStatus reads a status line, "HTTP/1.1 200 OK" (RFC 9112 §4), and
// returns its code.
func readStatus(br *bufio.Reader) (int, error) {
	line, _, err := readLine(br, nil, maxRequestLineBytes, errStatusLineTooLong)
	if err != nil {
		return 0, err
	}
	version, rest, _ := strings.Cut(string(line), " ")
	code, _, _ := strings.Cut(rest, " ")
	n, err := strconv.Atoi(code)
	if _, verr := parseVersion(version); verr != nil || err != nil || len(code) != 3 {
		return 0, fmt.Errorf("malformed status line %q", line)
	}
	return n, nil
}
