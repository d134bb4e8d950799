package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// config is what the server is told at start. Each setting comes from its
// flag, else its environment variable, else its default: a flag wins, so a
// one-off run can override what a container's ENV sets.
type config struct {
	host          string
	port          int
	workers       int
	queue         int
	maxConns      int
	bodyBudget    int64 // bytes of request bodies held in memory at once
	clientTimeout time.Duration
	keepAlive     bool // connections persist (RFC 9112 §9.3)
	idleTimeout   time.Duration
	drainTimeout  time.Duration
	wwwDir        string // empty: the files embedded in the binary
	logLevel      slog.Level
	logJSON       bool
	deferAccept   bool // Linux: hand a connection over once it has bytes
	healthcheck   bool // probe a running server instead of being one
	slow          bool // add /slow, to watch a drain
}

// option is one knob: its flag, its environment variable, its default, and
// how to read a value into a config. read's error says what is allowed.
type option struct {
	flag, env, def, usage string
	read                  func(c *config, value string) error
}

// The bounds of the settings that are numbers or durations. A value outside
// them is refused at start, with exit 2, because the server would accept it
// and then fail: every request, every shutdown, or the machine. Each bound
// is tested at its edges (TestConfigBounds), and its reason is beside it.
const (
	// Each worker is a goroutine, started at once whether busy or not:
	// about 3 KiB each, so 10 000 hold some 30 MiB before the first
	// request, and 100 000 over 250 MiB. A worker is busy only while a
	// handler runs, microseconds here, or a slow client takes its
	// response: past 10 000, ten times the default cap on connections,
	// more would only wait.
	minWorkers, maxWorkers = 1, 10_000

	// Linux lets a process hold at most fs.nr_open descriptors, 1 048 576
	// unless raised, one per connection; 1 000 000 connections also cost
	// some 10 GiB (defaultMaxConns). The open-files limit the process
	// really has is checked at start (warnings).
	minMaxConns, maxMaxConns = 1, 1_000_000

	// A queued request holds its connection, so the queue can never hold
	// more than the most connections there may be. 0 is allowed: a
	// request then waits only for a free worker.
	minQueue, maxQueue = 0, maxMaxConns

	// The budget for request bodies in memory must hold one body of the
	// largest size, or that body could never be read. 64 GiB is more than
	// the memory of the machines this server is meant for: arbitrary.
	minBodyBudget, maxBodyBudget = maxBodyBytes, 64 << 30

	// A request must cross the network within the client timeout, and a
	// round trip across a continent or an ocean takes about 100 ms: less
	// refuses clients merely for being far (1ns is a deadline that passes
	// before the first read, and closes every connection unanswered). The
	// tests use 300 ms. Up to 5 min, a stalled client may hold its
	// connection: time for a body of maxBodyBytes at 3.5 KB/s, slower
	// than any working link. Longer only helps a slowloris.
	minClientTimeout, maxClientTimeout = 100 * time.Millisecond, 5 * time.Minute

	// A client reuses a kept connection once it has read an answer, a
	// round trip at the least, about 100 ms across a continent: shorter,
	// and a connection is closed before its next request could come
	// (-keepalive=false says that plainly). An hour, 48 times the default,
	// is arbitrary: longer keeps, for clients most likely gone, a
	// descriptor each and a place under -max-conns.
	minIdleTimeout, maxIdleTimeout = 100 * time.Millisecond, time.Hour

	// A shutdown gives a connection waiting for its first byte idleGrace
	// to begin a request, and one the backlog still hands over up to
	// backlogWait later the same; closing, it may linger for lingerTimeout
	// (conn.go). That is 1.6 s, and a shorter drain exits 1 whenever a
	// client holds a connection open (below backlogWait, every time): 2 s
	// is that with room. The longest is 8 s, the default: `docker stop`
	// kills after 10 s, and a drain cut by SIGKILL logs nothing and loses
	// what was in flight, where one cut by its own timeout logs how many it
	// cut and exits 1. A request begun just before the signal with a
	// longer -timeout than the drain may be cut so: the timeout is the
	// client's, the drain the supervisor's.
	minDrain, maxDrain = 2 * time.Second, 8 * time.Second
)

var options = []option{
	{"host", "HOST", "0.0.0.0", "address to listen on; 0.0.0.0 is every interface",
		readHost},
	{"port", "PORT", "8080", "TCP port to listen on; 0 picks a free one",
		func(c *config, v string) (err error) { c.port, err = readInt(v, 0, 65535); return }},
	{"workers", "NUM_WORKERS", strconv.Itoa(defaultWorkers), "requests answered at once",
		func(c *config, v string) (err error) { c.workers, err = readInt(v, minWorkers, maxWorkers); return }},
	{"queue", "QUEUE_SIZE", strconv.Itoa(defaultQueueSize), "complete requests that may wait for a worker; more get 503",
		func(c *config, v string) (err error) { c.queue, err = readInt(v, minQueue, maxQueue); return }},
	{"max-conns", "MAX_CONNS", strconv.Itoa(defaultMaxConns), "connections open at once; more get 503",
		func(c *config, v string) (err error) { c.maxConns, err = readInt(v, minMaxConns, maxMaxConns); return }},
	{"body-budget", "BODY_BUDGET", sizeText(defaultBodyBudget), "bytes of request bodies held in memory at once; a body past it gets 503",
		func(c *config, v string) (err error) {
			c.bodyBudget, err = readSize(v, minBodyBudget, maxBodyBudget)
			return
		}},
	{"timeout", "CLIENT_TIMEOUT", defaultClientTimeout.String(), "time a whole request may take to arrive",
		func(c *config, v string) (err error) {
			c.clientTimeout, err = readDuration(v, minClientTimeout, maxClientTimeout)
			return
		}},
	{"keepalive", "KEEPALIVE", "true", "keep connections open for more requests; false: one request each",
		func(c *config, v string) (err error) { c.keepAlive, err = readBool(v); return }},
	{"idle-timeout", "IDLE_TIMEOUT", defaultIdleTimeout.String(), "time a kept connection may wait for its next request",
		func(c *config, v string) (err error) {
			c.idleTimeout, err = readDuration(v, minIdleTimeout, maxIdleTimeout)
			return
		}},
	{"drain", "DRAIN_TIMEOUT", drainTimeout.String(), "time a shutdown may take to answer what it accepted",
		func(c *config, v string) (err error) {
			c.drainTimeout, err = readDuration(v, minDrain, maxDrain)
			return
		}},
	{"www", "WWW_DIR", "", "directory to serve at /about and /static/; empty: the embedded www/",
		readWWW},
	{"log-level", "LOG_LEVEL", "info", "debug, info, warn or error",
		readLogLevel},
	{"log-format", "LOG_FORMAT", "text", "text, or json for a container's log collector",
		readLogFormat},
	{"defer-accept", "DEFER_ACCEPT", "false", "Linux: take a connection only once its first bytes arrive (see README)",
		func(c *config, v string) (err error) { c.deferAccept, err = readBool(v); return }},
}

// parseConfig reads the configuration from args and the environment. For
// -h it writes the usage to out and returns flag.ErrHelp; for a bad value it
// returns one line naming the flag or variable, the value, and what is
// allowed.
func parseConfig(args []string, getenv func(string) string, out io.Writer) (config, error) {
	fs := flag.NewFlagSet("http-server", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned, and the caller says them once
	values := make([]string, len(options))
	for i, s := range options {
		values[i] = s.def
		fs.Var(textFlag{&values[i], s.def == "false" || s.def == "true"}, s.flag, s.usage)
	}
	var c config
	fs.BoolVar(&c.healthcheck, "healthcheck", false, "probe /health on the configured port; exit 0 if it answers 200, else 1")
	fs.BoolVar(&c.slow, "slow", false, "add GET /slow?for=DURATION, answered after DURATION, to watch a drain")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(out, fs)
		}
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q: every setting is a flag (see -h)", fs.Arg(0))
	}
	onCommandLine := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { onCommandLine[f.Name] = true })
	for i, s := range options {
		value, source := s.def, "the default of -"+s.flag
		if v := getenv(s.env); v != "" {
			value, source = v, s.env
		}
		if onCommandLine[s.flag] {
			value, source = values[i], "-"+s.flag
		}
		if err := s.read(&c, value); err != nil {
			return config{}, fmt.Errorf("%s %q: %w", source, value, err)
		}
	}
	return c, nil
}

// textFlag holds a flag's text until parseConfig reads it. A setting whose
// default is "false" or "true" is a boolean: "-flag" alone means
// "-flag=true", and "-flag=false" turns it off.
type textFlag struct {
	text   *string
	isBool bool
}

func (f textFlag) String() string {
	if f.text == nil {
		return ""
	}
	return *f.text
}

func (f textFlag) Set(s string) error { *f.text = s; return nil }
func (f textFlag) IsBoolFlag() bool   { return f.isBool }

func readInt(v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("want a whole number from %d to %d", lo, hi)
	}
	return n, nil
}

// readSize takes a number of bytes, whole or with a unit: 1048576, 512KiB,
// 32MiB, 1GiB.
func readSize(v string, lo, hi int64) (int64, error) {
	unit := int64(1)
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}} {
		if rest, ok := strings.CutSuffix(v, u.suffix); ok {
			v, unit = rest, u.size
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo/unit || n > hi/unit || n*unit < lo {
		return 0, fmt.Errorf("want a size from %s to %s, such as 32MiB or 512KiB", sizeText(lo), sizeText(hi))
	}
	return n * unit, nil
}

// sizeText writes n bytes with the largest unit that divides it: 32MiB.
func sizeText(n int64) string {
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

// readHost takes an IP address or a host name, such as localhost; empty
// means every interface, as 0.0.0.0 does.
func readHost(c *config, v string) error {
	if v != "" && net.ParseIP(v) == nil && !isHostName(v) {
		return errors.New("want an IP address or a host name")
	}
	c.host = v
	return nil
}

// isHostName reports whether v is a host name: labels of letters, digits
// and hyphens, not at either end, joined by dots (RFC 1123 §2.1), the last
// not all digits, so that 999.1.1.1 is a bad address, not a name to look up.
func isHostName(v string) bool {
	labels := strings.Split(strings.TrimSuffix(v, "."), ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' ||
			!every(l, func(c byte) bool { return isAlnum(c) || c == '-' }) {
			return false
		}
	}
	return !every(labels[len(labels)-1], isDigit)
}

// filesBesideConns counts the files the server holds open beside one per
// connection: stdin, stdout and stderr, the listener, the runtime's poller
// and its wakeup, the cgroup files it reads; about 8 on Linux with Go
// 1.26, so 16 leaves room. Each worker may hold one more: a file of -www
// that it is reading.
const filesBesideConns = 16

// warnings are what the server says at start, once its logger is set up,
// about a configuration it accepts but that the machine may not honour.
// openFiles is the most files the process may open (openFilesLimit), 0 if
// not known. Each connection takes one, so a cap above the limit cannot be
// reached: past the limit, accept fails and is retried (serve), and new
// connections wait unaccepted. nginx warns alike: "worker_connections
// exceed open file resource limit".
func (c config) warnings(openFiles uint64) []string {
	need := uint64(c.maxConns) + uint64(c.workers) + filesBesideConns
	if openFiles == 0 || need <= openFiles {
		return nil
	}
	other := c.workers + filesBesideConns
	msg := fmt.Sprintf("-max-conns %d exceeds the open-files limit (ulimit -n) of %d, less %d for the workers and the runtime:"+
		" past it, new connections wait unaccepted; raise ulimit -n to at least %d", c.maxConns, openFiles, other, need)
	if room := int(openFiles) - other; room >= minMaxConns { // openFiles < need: no overflow
		msg += fmt.Sprintf(", or lower -max-conns to %d", room)
	}
	return []string{msg}
}

// logWarnings logs each of c's warnings on this machine, at WARN.
func (c config) logWarnings() {
	for _, w := range c.warnings(openFilesLimit()) {
		slog.Warn(w)
	}
}

// serverSettings is the part of c that the server itself keeps to.
func (c config) serverSettings() settings {
	return settings{clientTimeout: c.clientTimeout, idleTimeout: c.idleTimeout, maxConns: c.maxConns,
		bodyBudget: c.bodyBudget, noKeepAlive: !c.keepAlive}
}

func readBool(v string) (bool, error) {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, errors.New("want true or false")
	}
	return b, nil
}

func readDuration(v string, lo, hi time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d < lo || d > hi {
		return 0, fmt.Errorf("want a duration from %s to %s, such as 5s or 500ms", roundText(lo), roundText(hi))
	}
	return d, nil
}

// roundText writes d as a person would: 5m for 5m0s, 1h for 1h0m0s.
// Either way, time.ParseDuration reads it back.
func roundText(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func readWWW(c *config, v string) error {
	if v != "" {
		if info, err := os.Stat(v); err != nil || !info.IsDir() {
			return errors.New("want a directory that exists")
		}
	}
	c.wwwDir = v
	return nil
}

func readLogLevel(c *config, v string) error {
	switch strings.ToLower(v) {
	case "debug", "info", "warn", "error":
		return c.logLevel.UnmarshalText([]byte(v))
	}
	return errors.New("want debug, info, warn or error")
}

func readLogFormat(c *config, v string) error {
	switch strings.ToLower(v) {
	case "text":
		c.logJSON = false
	case "json":
		c.logJSON = true
	default:
		return errors.New("want text or json")
	}
	return nil
}

// printUsage lists every flag with its environment variable and default.
func printUsage(out io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(out, "Usage: http-server [flags]\n\n"+
		"An HTTP/1.1 server built from raw TCP. Each setting is a flag or, failing\n"+
		"that, the environment variable beside it; a flag wins over the variable.\n\n")
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "  FLAG\tVARIABLE\tDEFAULT\tMEANING")
	for _, s := range options {
		fmt.Fprintf(w, "  -%s\t%s\t%s\t%s\n", s.flag, s.env, cmp.Or(s.def, `""`), s.usage)
	}
	for _, name := range []string{"healthcheck", "slow"} {
		fmt.Fprintf(w, "  -%s\t\t\t%s\n", name, fs.Lookup(name).Usage)
	}
	w.Flush()
}
