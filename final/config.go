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
	// A worker is a slot a request is answered in, busy while a handler
	// runs, microseconds here, or a slow client takes its response: past
	// 10 000, ten times the default cap on connections, more would only
	// wait. Arbitrary.
	minWorkers, maxWorkers = 1, 10_000

	// Linux lets a process hold at most fs.nr_open descriptors, 1 048 576
	// unless raised, one per connection; 1 000 000 connections also cost
	// some 10 GiB (defaultMaxConns). The open-files limit the process
	// really has is checked at start (warning).
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
	// round trip across an ocean takes about 100 ms: less refuses clients
	// for being far (1ns closes every connection unanswered). 5 min is time
	// for a body of maxBodyBytes at 3.5 KB/s, slower than any working
	// link: longer only helps a client that holds connections on purpose.
	minClientTimeout, maxClientTimeout = 100 * time.Millisecond, 5 * time.Minute

	// A client reuses a kept connection a round trip after an answer at
	// the least: shorter, and it is closed before its next request could
	// come (-keepalive=false says that plainly). An hour is arbitrary:
	// longer keeps a place under -max-conns for clients most likely gone.
	minIdleTimeout, maxIdleTimeout = 100 * time.Millisecond, time.Hour

	// A shutdown gives a connection waiting for its first byte idleGrace
	// to begin a request, and one the backlog still hands over up to
	// backlogWait later the same; closing, it may linger for lingerTimeout
	// (conn.go). That is 1.6 s: 2 s is that with room. The longest is 8 s,
	// the default: `docker stop` kills after 10 s, and a drain cut by
	// SIGKILL logs nothing, where one cut by its own timeout logs how many
	// it cut and exits 1.
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
	{"body-budget", "BODY_BUDGET", strconv.Itoa(defaultBodyBudget>>20) + "MiB", "bytes of request bodies held in memory at once; a body past it gets 503",
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

// readSize takes a number of bytes, or of mebibytes followed by MiB.
func readSize(v string, lo, hi int64) (int64, error) {
	unit := int64(1)
	if mib, ok := strings.CutSuffix(v, "MiB"); ok {
		v, unit = mib, 1<<20
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n > hi/unit || n*unit < lo {
		return 0, fmt.Errorf("want a size from %dMiB to %dMiB, such as 32MiB", lo>>20, hi>>20)
	}
	return n * unit, nil
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

// warning is what the server says at start, once its logger is set up,
// about a cap on connections that the machine cannot honour, or "":
// openFiles is the most files the process may open, 0 if not known. Each
// connection takes one, so past the limit accept fails and is retried
// (serve), and new connections wait unaccepted. nginx warns alike:
// "worker_connections exceed open file resource limit".
func (c config) warning(openFiles uint64) string {
	need := uint64(c.maxConns) + uint64(c.workers) + filesBesideConns
	if openFiles == 0 || need <= openFiles {
		return ""
	}
	other := c.workers + filesBesideConns
	msg := fmt.Sprintf("-max-conns %d exceeds the open-files limit (ulimit -n) of %d, less %d for the workers and the runtime:"+
		" past it, new connections wait unaccepted; raise ulimit -n to at least %d", c.maxConns, openFiles, other, need)
	if room := int(openFiles) - other; room >= minMaxConns { // openFiles < need: no overflow
		msg += fmt.Sprintf(", or lower -max-conns to %d", room)
	}
	return msg
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
		return 0, fmt.Errorf("want a duration from %v to %v, such as 5s or 500ms", lo, hi)
	}
	return d, nil
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
