package main

import (
	"bufio"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// configFor is a config that points at addr.
func configFor(t *testing.T, host, addr string) config {
	t.Helper()
	_, port, _ := net.SplitHostPort(addr)
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return config{host: host, port: n}
}

// answering serves every connection with the bytes of answer, after
// reading its request.
func answering(t *testing.T, answer string) string {
	return startServer(t, func(conn net.Conn) {
		readRequest(bufio.NewReader(conn))
		io.WriteString(conn, answer)
	})
}

func TestHealthcheck(t *testing.T) {
	healthy := startServing(t, newAppServer(1, 1, settings{}))
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closed.Close()
	tests := []struct {
		name    string
		cfg     config
		wantErr string // empty: healthy
	}{
		{"healthy", configFor(t, "127.0.0.1", healthy), ""},
		{"every_interface_means_loopback", configFor(t, "0.0.0.0", healthy), ""},
		{"empty_host_means_loopback", configFor(t, "", healthy), ""},
		{"unhealthy", configFor(t, "127.0.0.1", answering(t, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")), "503"},
		{"not_http", configFor(t, "127.0.0.1", answering(t, "SSH-2.0-OpenSSH\r\n")), "malformed status line"},
		{"nothing_listening", configFor(t, "127.0.0.1", closed.Addr().String()), "refused"},
		{"silent_server", configFor(t, "127.0.0.1", startServer(t, func(conn net.Conn) { io.Copy(io.Discard, conn) })), "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			err := healthcheck(tt.cfg)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("healthcheck = %v; want %q", err, tt.wantErr)
			}
			if took := time.Since(start); took > ioTimeout {
				t.Errorf("healthcheck took %v; want it bounded by its own timeout", took)
			}
		})
	}
}

func TestReadStatus(t *testing.T) {
	tests := []struct {
		line string
		want int // 0: an error
	}{
		{"HTTP/1.1 200 OK\r\n", 200},
		{"HTTP/1.0 503 Service Unavailable\r\n", 503},
		{"HTTP/1.1 204\r\n", 204},
		{"HTTP/1.1 20 OK\r\n", 0},
		{"HTTP/1.1 abc OK\r\n", 0},
		{"HTTP/9 200 OK\r\n", 0},
		{"200 OK\r\n", 0},
		{"", 0},
	}
	for _, tt := range tests {
		got, err := readStatus(bufio.NewReader(strings.NewReader(tt.line)))
		if got != tt.want || (err == nil) != (tt.want != 0) {
			t.Errorf("readStatus(%q) = %d, %v; want %d", tt.line, got, err, tt.want)
		}
	}
}
