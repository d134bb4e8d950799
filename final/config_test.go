package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// env is an environment for parseConfig.
type env map[string]string

func (e env) get(name string) string { return e[name] }

func TestConfigDefaults(t *testing.T) {
	got, err := parseConfig(nil, env{}.get, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := config{host: "0.0.0.0", port: 8080, workers: defaultWorkers, queue: defaultQueueSize, maxConns: defaultMaxConns, bodyBudget: defaultBodyBudget,
		clientTimeout: defaultClientTimeout, keepAlive: true, idleTimeout: defaultIdleTimeout, drainTimeout: drainTimeout,
		logLevel: slog.LevelInfo}
	if got != want {
		t.Errorf("defaults = %+v; want %+v", got, want)
	}
	if drainTimeout > 8*time.Second {
		t.Errorf("default drain %v; want at most 8s, to fit in docker stop's 10s", drainTimeout)
	}
}

// Each setting from its flag and from its variable; a flag wins.
func TestConfigSources(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		env  env
		want func(c config) bool
	}{
		{"host_flag", []string{"-host", "127.0.0.1"}, nil, func(c config) bool { return c.host == "127.0.0.1" }},
		{"host_env", nil, env{"HOST": "::1"}, func(c config) bool { return c.host == "::1" }},
		{"host_name", []string{"-host", "localhost"}, nil, func(c config) bool { return c.host == "localhost" }},
		{"host_empty", []string{"-host", ""}, nil, func(c config) bool { return c.host == "" }},
		{"port_flag", []string{"-port", "0"}, nil, func(c config) bool { return c.port == 0 }},
		{"port_env", nil, env{"PORT": "9000"}, func(c config) bool { return c.port == 9000 }},
		{"workers_flag", []string{"-workers", "3"}, nil, func(c config) bool { return c.workers == 3 }},
		{"workers_env", nil, env{"NUM_WORKERS": "4"}, func(c config) bool { return c.workers == 4 }},
		{"queue_flag", []string{"-queue", "0"}, nil, func(c config) bool { return c.queue == 0 }},
		{"queue_env", nil, env{"QUEUE_SIZE": "7"}, func(c config) bool { return c.queue == 7 }},
		{"max_conns_flag", []string{"-max-conns", "5"}, nil, func(c config) bool { return c.maxConns == 5 }},
		{"max_conns_env", nil, env{"MAX_CONNS": "6"}, func(c config) bool { return c.maxConns == 6 }},
		{"timeout_flag", []string{"-timeout", "300ms"}, nil, func(c config) bool { return c.clientTimeout == 300*time.Millisecond }},
		{"timeout_env", nil, env{"CLIENT_TIMEOUT": "2s"}, func(c config) bool { return c.clientTimeout == 2*time.Second }},
		{"keepalive_off", []string{"-keepalive=false"}, nil, func(c config) bool { return !c.keepAlive }},
		{"keepalive_on", []string{"-keepalive"}, env{"KEEPALIVE": "false"}, func(c config) bool { return c.keepAlive }},
		{"keepalive_env", nil, env{"KEEPALIVE": "false"}, func(c config) bool { return !c.keepAlive }},
		{"idle_timeout_flag", []string{"-idle-timeout", "2s"}, nil, func(c config) bool { return c.idleTimeout == 2*time.Second }},
		{"idle_timeout_env", nil, env{"IDLE_TIMEOUT": "1m"}, func(c config) bool { return c.idleTimeout == time.Minute }},
		{"host_dotted_name", []string{"-host", "ip6-localhost.localdomain."}, nil, func(c config) bool { return c.host == "ip6-localhost.localdomain." }},
		{"drain_flag", []string{"-drain", "2s"}, nil, func(c config) bool { return c.drainTimeout == 2*time.Second }},
		{"drain_env", nil, env{"DRAIN_TIMEOUT": "3s"}, func(c config) bool { return c.drainTimeout == 3*time.Second }},
		{"www_flag", []string{"-www", dir}, nil, func(c config) bool { return c.wwwDir == dir }},
		{"www_env", nil, env{"WWW_DIR": dir}, func(c config) bool { return c.wwwDir == dir }},
		{"log_level_flag", []string{"-log-level", "debug"}, nil, func(c config) bool { return c.logLevel == slog.LevelDebug }},
		{"log_level_env", nil, env{"LOG_LEVEL": "WARN"}, func(c config) bool { return c.logLevel == slog.LevelWarn }},
		{"log_format_flag", []string{"-log-format", "json"}, nil, func(c config) bool { return c.logJSON }},
		{"log_format_env", nil, env{"LOG_FORMAT": "json"}, func(c config) bool { return c.logJSON }},
		{"healthcheck", []string{"-healthcheck"}, nil, func(c config) bool { return c.healthcheck }},
		{"slow", []string{"-slow"}, nil, func(c config) bool { return c.slow }},
		{"flag_wins_over_env", []string{"-port", "1234"}, env{"PORT": "5678"}, func(c config) bool { return c.port == 1234 }},
		{"flag_wins_over_bad_env", []string{"-port", "1234"}, env{"PORT": "abc"}, func(c config) bool { return c.port == 1234 }},
		{"empty_env_is_unset", nil, env{"PORT": ""}, func(c config) bool { return c.port == 8080 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseConfig(tt.args, tt.env.get, nil)
			if err != nil || !tt.want(got) {
				t.Errorf("parseConfig(%q, %v) = %+v, %v", tt.args, tt.env, got, err)
			}
		})
	}
}

// A bad value is one error naming where it came from, the value, and what
// is allowed.
func TestConfigBadValues(t *testing.T) {
	tests := []struct {
		args []string
		env  env
		want string
	}{
		{[]string{"-port", "abc"}, nil, `-port "abc": want a whole number from 0 to 65535`},
		{[]string{"-host", "exa mple"}, nil, `-host "exa mple": want an IP address or a host name`},
		{nil, env{"HOST": "[::1]"}, `HOST "[::1]": want an IP address or a host name`},
		{[]string{"-host", "999.1.1.1"}, nil, `-host "999.1.1.1": want an IP address or a host name`},
		{[]string{"-host", "-bad.example"}, nil, `-host "-bad.example": want an IP address or a host name`},
		{[]string{"-host", "a..b"}, nil, `-host "a..b": want an IP address or a host name`},
		{nil, env{"KEEPALIVE": "sometimes"}, `KEEPALIVE "sometimes": want true or false`},
		{[]string{"-idle-timeout", "0"}, nil, `-idle-timeout "0": want a duration from 100ms to 1h0m0s, such as 5s or 500ms`},
		{[]string{"-idle-timeout", "1ns"}, nil, `-idle-timeout "1ns": want a duration from 100ms to 1h`},
		{nil, env{"PORT": "70000"}, `PORT "70000": want a whole number from 0 to 65535`},
		{[]string{"-port", "-1"}, nil, `-port "-1": want a whole number from 0 to 65535`},
		{[]string{"-workers", "0"}, nil, `-workers "0": want a whole number from 1 to 10000`},
		{nil, env{"NUM_WORKERS": "ten"}, `NUM_WORKERS "ten": want a whole number`},
		{[]string{"-queue", "-1"}, nil, `-queue "-1": want a whole number from 0`},
		{[]string{"-max-conns", "0"}, nil, `-max-conns "0": want a whole number from 1`},
		{[]string{"-max-conns", "2000000"}, nil, `-max-conns "2000000": want a whole number from 1 to 1000000`},
		{[]string{"-timeout", "-1s"}, nil, `-timeout "-1s": want a duration from 100ms to 5m`},
		{[]string{"-timeout", "5"}, nil, `-timeout "5": want a duration from 100ms to 5m`},
		{[]string{"-timeout", "1ns"}, nil, `-timeout "1ns": want a duration from 100ms to 5m`},
		{nil, env{"CLIENT_TIMEOUT": "1000h"}, `CLIENT_TIMEOUT "1000h": want a duration from 100ms to 5m`},
		{nil, env{"DRAIN_TIMEOUT": "0s"}, `DRAIN_TIMEOUT "0s": want a duration from 2s to 8s`},
		{[]string{"-drain", "50ms"}, nil, `-drain "50ms": want a duration from 2s to 8s`},
		{[]string{"-drain", "1000h"}, nil, `-drain "1000h": want a duration from 2s to 8s`},
		{[]string{"-www", "/no/such/dir"}, nil, `-www "/no/such/dir": want a directory that exists`},
		{nil, env{"LOG_LEVEL": "loud"}, `LOG_LEVEL "loud": want debug, info, warn or error`},
		{nil, env{"LOG_FORMAT": "xml"}, `LOG_FORMAT "xml": want text or json`},
		{[]string{"-no-such-flag"}, nil, "flag provided but not defined: -no-such-flag"},
		{[]string{"extra"}, nil, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := parseConfig(tt.args, tt.env.get, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("parseConfig(%q, %v) error = %v; want one line with %q", tt.args, tt.env, err, tt.want)
			}
		})
	}
}

// Each bound of a number or a duration at its edges, from the flag and from
// the variable: the bound itself is taken, one step past it is refused with
// one line that names the range.
func TestConfigBounds(t *testing.T) {
	// span is a range: as the error says it, and four values: below it,
	// its two ends, above it.
	type span struct {
		allowed string
		values  [4]string
	}
	ints := func(lo, hi int) span {
		return span{fmt.Sprintf("from %d to %d", lo, hi),
			[4]string{strconv.Itoa(lo - 1), strconv.Itoa(lo), strconv.Itoa(hi), strconv.Itoa(hi + 1)}}
	}
	durations := func(lo, hi time.Duration) span {
		return span{fmt.Sprintf("from %v to %v", lo, hi),
			[4]string{(lo - time.Nanosecond).String(), lo.String(), hi.String(), (hi + time.Nanosecond).String()}}
	}
	tests := []struct {
		flag, env string
		get       func(config) string // the value as it was read
		span
	}{
		{"workers", "NUM_WORKERS", func(c config) string { return strconv.Itoa(c.workers) }, ints(minWorkers, maxWorkers)},
		{"queue", "QUEUE_SIZE", func(c config) string { return strconv.Itoa(c.queue) }, ints(minQueue, maxQueue)},
		{"max-conns", "MAX_CONNS", func(c config) string { return strconv.Itoa(c.maxConns) }, ints(minMaxConns, maxMaxConns)},
		{"port", "PORT", func(c config) string { return strconv.Itoa(c.port) }, ints(0, 65535)},
		{"timeout", "CLIENT_TIMEOUT", func(c config) string { return c.clientTimeout.String() },
			durations(minClientTimeout, maxClientTimeout)},
		{"idle-timeout", "IDLE_TIMEOUT", func(c config) string { return c.idleTimeout.String() },
			durations(minIdleTimeout, maxIdleTimeout)},
		{"drain", "DRAIN_TIMEOUT", func(c config) string { return c.drainTimeout.String() },
			durations(minDrain, maxDrain)},
		{"body-budget", "BODY_BUDGET", func(c config) string { return strconv.FormatInt(c.bodyBudget, 10) },
			span{fmt.Sprintf("from %dMiB to %dMiB", minBodyBudget>>20, maxBodyBudget>>20), [4]string{
				strconv.FormatInt(minBodyBudget-1, 10), strconv.FormatInt(minBodyBudget, 10),
				strconv.FormatInt(maxBodyBudget, 10), strconv.FormatInt(maxBodyBudget+1, 10)}}},
	}
	for _, tt := range tests {
		for i, v := range tt.values {
			inRange := i == 1 || i == 2
			for _, source := range []struct {
				name string
				args []string
				env  env
			}{{"-" + tt.flag, []string{"-" + tt.flag, v}, nil}, {tt.env, nil, env{tt.env: v}}} {
				t.Run(source.name+"="+v, func(t *testing.T) {
					c, err := parseConfig(source.args, source.env.get, nil)
					switch {
					case inRange && (err != nil || tt.get(c) != v):
						t.Errorf("%s %q: got %q, %v; want it taken", source.name, v, tt.get(c), err)
					case !inRange && (err == nil || strings.Contains(err.Error(), "\n") ||
						!strings.Contains(err.Error(), fmt.Sprintf("%s %q: ", source.name, v)) ||
						!strings.Contains(err.Error(), tt.allowed)):
						t.Errorf("%s %q: error %v; want one line naming it and %q", source.name, v, err, tt.allowed)
					}
				})
			}
		}
	}
}

// The bounds of the drain hold what shutdown.go needs: time for a
// connection's grace, from as late as the backlog hands it over, and its
// linger as it closes; and a drain that ends before docker stop's SIGKILL,
// 10 s after its SIGTERM.
func TestDrainBoundsFitTheShutdown(t *testing.T) {
	if minDrain <= backlogWait+idleGrace+lingerTimeout {
		t.Errorf("minDrain %v; want more than backlogWait %v + idleGrace %v + lingerTimeout %v",
			minDrain, backlogWait, idleGrace, lingerTimeout)
	}
	if maxDrain >= 10*time.Second {
		t.Errorf("maxDrain %v; want less than docker stop's 10 s", maxDrain)
	}
}

// A cap on connections above the open-files limit is one WARN line, which
// says what to do; the limit is given, not read from this machine.
func TestConfigWarnings(t *testing.T) {
	c := config{maxConns: 1000, workers: 10}
	need := uint64(c.maxConns + c.workers + filesBesideConns)
	tests := []struct {
		name      string
		openFiles uint64
		want      string // the one warning; empty: none
	}{
		{"limit_unknown", 0, ""},
		{"no_limit", math.MaxUint64, ""}, // RLIM_INFINITY
		{"limit_just_enough", need, ""},
		{"limit_one_short", need - 1, fmt.Sprintf("-max-conns 1000 exceeds the open-files limit (ulimit -n) of %d, less %d for the workers and the runtime:"+
			" past it, new connections wait unaccepted; raise ulimit -n to at least %d, or lower -max-conns to %d",
			need-1, 10+filesBesideConns, need, 1000-1)},
		{"ulimit_256", 256, fmt.Sprintf("raise ulimit -n to at least %d, or lower -max-conns to %d", need, 256-10-filesBesideConns)},
		{"limit_below_what_the_runtime_takes", 20, fmt.Sprintf("raise ulimit -n to at least %d", need)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.warning(tt.openFiles)
			switch {
			case tt.want == "" && got != "":
				t.Errorf("warning(%d) = %q; want none", tt.openFiles, got)
			case tt.want != "" && (!strings.HasSuffix(got, tt.want) || !strings.HasPrefix(got, "-max-conns 1000 ")):
				t.Errorf("warning(%d) = %q; want one, ending %q", tt.openFiles, got, tt.want)
			}
		})
	}
}

// The binary started under a low open-files limit says so, once, before it
// listens.
func TestBinaryWarnsAboveTheOpenFilesLimit(t *testing.T) {
	bin := binary(t)
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to lower the limit with")
	}
	// ulimit lowers the limit for the shell, and exec hands it to the server.
	p := startProcess(t, exec.Command(sh, "-c", `ulimit -n 64 && exec "$0" -port 0 -host 127.0.0.1 -max-conns 100`, bin))
	lines, _ := p.log.since(0)
	var warns []string
	for _, line := range lines {
		if strings.Contains(line, "level=WARN") {
			warns = append(warns, line)
		}
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "-max-conns 100 exceeds the open-files limit (ulimit -n) of 64") {
		t.Errorf("WARN lines before listening: %q; want one about -max-conns 100 and the limit of 64", warns)
	}
}

func TestConfigHelp(t *testing.T) {
	var out strings.Builder
	_, err := parseConfig([]string{"-h"}, env{}.get, &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("parseConfig(-h) = %v; want flag.ErrHelp", err)
	}
	for _, s := range options {
		if !strings.Contains(out.String(), "-"+s.flag) || !strings.Contains(out.String(), s.env) {
			t.Errorf("-h does not list -%s with %s:\n%s", s.flag, s.env, out.String())
		}
	}
	for _, want := range []string{"-healthcheck", "-slow", "0.0.0.0", "8080", "100", "1000", "5s", "8s", "1m15s"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("-h does not mention %q:\n%s", want, out.String())
		}
	}
}

// The binary: a bad value exits 2 with one line; -h exits 0.
func TestBinaryConfigErrors(t *testing.T) {
	bin := binary(t)
	tests := []struct {
		args     []string
		env      string
		code     int
		mentions string
	}{
		{[]string{"-port", "abc"}, "", 2, `-port "abc"`},
		{nil, "PORT=70000", 2, `PORT "70000"`},
		{[]string{"-workers", "0"}, "", 2, `-workers "0"`},
		{[]string{"-host", "999.1.1.1"}, "", 2, `-host "999.1.1.1"`},
		{[]string{"-timeout", "-1s"}, "", 2, `-timeout "-1s"`},
		{[]string{"-drain", "50ms"}, "", 2, `-drain "50ms": want a duration from 2s to 8s`},
		{nil, "IDLE_TIMEOUT=1ns", 2, `IDLE_TIMEOUT "1ns": want a duration from 100ms to 1h`},
		{nil, "LOG_FORMAT=xml", 2, `LOG_FORMAT "xml"`},
		{[]string{"-h"}, "", 0, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(append(tt.args, tt.env), " "), func(t *testing.T) {
			cmd := exec.Command(bin, tt.args...)
			cmd.Env = append(os.Environ(), tt.env)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			err := cmd.Run()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if code != tt.code || tt.code != 0 && (len(lines) != 1 || !strings.Contains(lines[0], tt.mentions)) {
				t.Errorf("exit %d, stderr %q; want exit %d and one line with %s", code, stderr.String(), tt.code, tt.mentions)
			}
		})
	}
}

// A size is a whole number of bytes, or of mebibytes followed by MiB.
func TestReadSize(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64 // 0: refused
	}{
		{"1048576", 1 << 20}, {"1MiB", 1 << 20}, {"32MiB", 32 << 20}, {"65536MiB", 64 << 30},
		{"1048575", 0}, {"0MiB", 0}, {"-1MiB", 0}, {"32MB", 0}, {"32 MiB", 0}, {"MiB", 0}, {"65537MiB", 0},
		{"99999999999999999999MiB", 0},
	} {
		got, err := readSize(tt.in, minBodyBudget, maxBodyBudget)
		if got != tt.want || (err != nil) != (tt.want == 0) {
			t.Errorf("readSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}
