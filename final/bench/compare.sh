#!/usr/bin/env bash
# compare.sh: the final server beside net/http and nginx, and beside the
# least a Go server can cost (the Go floor), under wrk, on this machine, in
# one run. Each server runs as a process of its own on
# 127.0.0.1 and answers GET /api/hello with the same body; wrk loads one
# server at a time, in alternating rounds, and the script reads each
# server's CPU time from /proc before and after each round. The claim is
# the CPU a server spends per request, and its ratio between servers in the
# same round; absolute figures vary with the machine and its load.
#
#   bash final/bench/compare.sh          from the repository's root
#   ./compare.sh                         from final/bench
#   ROUNDS=5 DURATION=10s CONNS=100 THREADS=2 ./compare.sh
#   PIN=0 ./compare.sh                   servers and wrk on any CPU
#
# On a machine with two CPUs or more, every server runs on one CPU and wrk
# on another (taskset, from util-linux): each server has one core, as
# nginx's one worker does, and does not share it with wrk. A Go server
# then runs Go code on one thread at a time, since its GOMAXPROCS follows
# the CPUs it may use, as in a container given one CPU. With PIN=0 they
# run anywhere: the Go servers take both cores, beside wrk, and Go's
# scheduler spends CPU looking for work on the second that nginx, with one
# thread, never spends. The two answer different questions; both are
# worth a run.
#
# Needs Go, wrk and nginx (Debian: apt-get install wrk nginx). It starts
# nginx itself, with a configuration of its own in a scratch directory;
# never as a system service. Every server it starts is stopped on exit.
# GOMAXPROCS, if set, reaches the Go servers as it is.
set -euo pipefail

rounds=${ROUNDS:-3}
duration=${DURATION:-5s}
conns=${CONNS:-50}
threads=${THREADS:-1}
pin=${PIN:-1}
path=/api/hello

# The repository's root, from where this file lives: the script runs from
# any directory.
root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
export LC_ALL=C # a decimal point in every figure, whatever the locale

die() {
	printf 'compare.sh: %s\n' "$*" >&2
	exit 1
}

# The tools, before anything is built or started. Debian installs nginx in
# /usr/sbin, which is not on every user's PATH.
nginx=$(command -v nginx || true)
if [[ -z $nginx && -x /usr/sbin/nginx ]]; then
	nginx=/usr/sbin/nginx
fi
missing=()
command -v wrk >/dev/null || missing+=(wrk)
[[ -n $nginx ]] || missing+=(nginx)
if ((${#missing[@]} > 0)); then
	die "${missing[*]} not found; the comparison needs wrk and nginx: install them with: apt-get install wrk nginx"
fi
command -v go >/dev/null || die "go not found: install Go 1.25 or newer"
[[ -r /proc/self/stat ]] || die "no /proc: the CPU time of each server is read from /proc/PID/stat (Linux)"
if ! [[ $rounds =~ ^[1-9][0-9]*$ && $conns =~ ^[1-9][0-9]*$ && $threads =~ ^[1-9][0-9]*$ ]]; then
	die "ROUNDS, CONNS and THREADS must be whole numbers above 0"
fi
((conns >= threads)) || die "CONNS ($conns) must be at least THREADS ($threads): wrk gives each thread its share"

# on_server and on_wrk run a command on the CPU its side was given, or
# anywhere: the first two CPUs this script may use (a container's cpuset
# may not start at 0).
on_server=() on_wrk=() pinning="none: servers and wrk on any CPU" cpus=()
IFS=, read -ra ranges <<<"$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)"
for r in "${ranges[@]}"; do
	for ((c = ${r%-*}; c <= ${r#*-}; c++)); do
		cpus+=("$c")
	done
done
if [[ $pin != 0 ]]; then
	if ((${#cpus[@]} < 2)) || ! command -v taskset >/dev/null; then
		pinning="none: pinning needs two CPUs and taskset (util-linux)"
	else
		on_server=(taskset -c "${cpus[0]}") on_wrk=(taskset -c "${cpus[1]}")
		pinning="every server on CPU ${cpus[0]}, wrk on CPU ${cpus[1]} (PIN=0: none)"
	fi
fi

tmp=$(mktemp -d)
pids=()   # every server started, to stop on exit
wrk_pid=  # the wrk running now, if any

# stop_servers ends the wrk still running and every server this script
# started, politely (SIGTERM: each drains and exits), then by force if one
# has not gone within 10 s, and removes the scratch directory.
stop_servers() {
	local pid i
	if [[ -n $wrk_pid ]]; then
		kill -TERM "$wrk_pid" 2>/dev/null || true
	fi
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		for ((i = 0; i < 100; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf -- "$tmp"
}
trap stop_servers EXIT
trap 'echo "compare.sh: interrupted; stopping the servers" >&2; exit 130' INT
trap 'echo "compare.sh: terminated; stopping the servers" >&2; exit 143' TERM

# --- What ran where -------------------------------------------------------

clk_tck=$(getconf CLK_TCK) # the unit of utime and stime in /proc/PID/stat
echo "date:     $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "machine:  $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), $(uname -sr)"
echo "load:     $(cut -d ' ' -f 1-3 /proc/loadavg) (1, 5, 15 min), before the run"
echo "go:       $(go version)${GOMAXPROCS:+, GOMAXPROCS=$GOMAXPROCS}"
echo "nginx:    $("$nginx" -v 2>&1)"
echo "wrk:      $(wrk --version 2>&1 | head -n 1 || true)"
echo "pinning:  $pinning"
echo "workload: GET $path; ROUNDS=$rounds, DURATION=$duration per server and workload, wrk -t$threads -c$conns"
echo

# --- Build ----------------------------------------------------------------

# From final's own directory, so that the build works with or without the
# workspace (final's go.mod requires nothing). The test binary carries
# TestNetHTTPBaseline: the same routes and handlers served by net/http.
echo "building final and its test binary..."
(cd "$root/final" && go build -o "$tmp/final" . && go test -c -o "$tmp/final.test" .)

# --- Start the servers ----------------------------------------------------

# wait_for_log waits until file $2, the log of process $1, has a line
# "listening on ADDR", and prints ADDR.
wait_for_log() {
	local pid=$1 log=$2 i addr
	for ((i = 0; i < 200; i++)); do
		addr=$(sed -n 's/.*listening on \([0-9.:]*\).*/\1/p' "$log" | head -n 1)
		if [[ -n $addr ]]; then
			echo "$addr"
			return
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	cat "$log" >&2
	die "the server with pid $pid did not say where it listens"
}

# The final server with its defaults, on a free port (-port 0), the request
# log off (-log-level warn), as net/http and nginx log no request either.
# The line "listening on ADDR" is written at every level.
"${on_server[@]}" "$tmp/final" -host 127.0.0.1 -port 0 -log-level warn 2>"$tmp/final.log" &
pids+=($!)
final_pid=$!
final_addr=$(wait_for_log "$final_pid" "$tmp/final.log")

# net/http, with keep-alives on as its default is, in the test binary.
# It logs "listening on ADDR" with a free port.
(cd "$root/final" && NETHTTP_BASELINE=keep-alive exec "${on_server[@]}" "$tmp/final.test" -test.run='^TestNetHTTPBaseline$') 2>"$tmp/nethttp.log" &
pids+=($!)
nethttp_pid=$!
nethttp_addr=$(wait_for_log "$nethttp_pid" "$tmp/nethttp.log")

# The Go floor, in the same test binary (TestGoFloor): a goroutine per
# connection writing fixed bytes, with no HTTP work; what Go's runtime
# costs beside nginx before this server does anything.
(cd "$root/final" && GO_FLOOR=1 exec "${on_server[@]}" "$tmp/final.test" -test.run='^TestGoFloor$') 2>"$tmp/floor.log" &
pids+=($!)
floor_pid=$!
floor_addr=$(wait_for_log "$floor_pid" "$tmp/floor.log")

# get writes to stdout the raw answer of server $1 (host:port) to
# GET $path on a fresh connection, Connection: close. Bash's /dev/tcp: no
# client besides wrk is needed.
get() {
	local fd
	exec {fd}<>"/dev/tcp/${1%:*}/${1##*:}"
	printf 'GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$path" >&"$fd"
	timeout 5 cat <&"$fd" || die "no whole answer from $1 to GET $path within 5 s"
	exec {fd}>&-
}

# body_of prints the body of a raw answer, file $1: what follows the first
# empty line.
body_of() {
	sed '1,/^\r$/d' "$1"
}

# nginx serves exactly the body the final server sends, taken from the
# final server itself, so the two cannot drift apart: `return 200` answers
# from memory, as the Go servers do, where a file would cost nginx an open
# and a stat per request. In nginx's quoted string, $ starts a variable and
# \ an escape; the body has neither, and the script checks.
get "$final_addr" >"$tmp/final.response"
body_of "$tmp/final.response" >"$tmp/body"
if grep -q "[\$\\\\']" "$tmp/body"; then
	die "the body of GET $path has a \$, \\ or ': nginx's return would change it"
fi

# free_port prints a port on 127.0.0.1 that nothing listens on now, below
# the ephemeral range that wrk's connections take their ports from.
free_port() {
	local port
	while :; do
		port=$((20000 + RANDOM % 12000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return
		fi
	done
}

# nginx: one worker, in the foreground (daemon off), its pid file, logs and
# temporary directories in the scratch directory, no access log. It keeps a
# connection for 1000 requests at most (its default, spelled out), as the
# final server does; net/http sets no such bound.
start_nginx() {
	local port=$1
	mkdir -p "$tmp/nginx"
	cat >"$tmp/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events {
    worker_connections 1024;
}
http {
    access_log off;
    client_body_temp_path $tmp/nginx/client_body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    keepalive_requests 1000;
    server {
        listen 127.0.0.1:$port;
        location = $path {
            default_type application/json;
            return 200 '$(cat "$tmp/body")
';
        }
    }
}
EOF
	# -e: the error log from the start, before the configuration is read
	# (nginx 1.19.5 and later); -p: a prefix in the scratch directory.
	"${on_server[@]}" "$nginx" -p "$tmp/nginx" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf" &
	pids+=($!)
	nginx_pid=$!
}

# ready waits until server $1 (host:port) accepts a connection; it fails if
# process $2 ends first, or after 10 s.
ready() {
	local i
	for ((i = 0; i < 200; i++)); do
		if (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null; then
			return 0
		fi
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# A port found free may be taken before nginx binds it: then nginx exits,
# and another port is tried.
for attempt in 1 2 3 4 5; do
	nginx_addr=127.0.0.1:$(free_port)
	start_nginx "${nginx_addr##*:}"
	if ready "$nginx_addr" "$nginx_pid"; then
		break
	fi
	kill -TERM "$nginx_pid" 2>/dev/null || true
	wait "$nginx_pid" 2>/dev/null || true
	if ((attempt == 5)); then
		cat "$tmp/nginx/error.log" >&2
		die "nginx did not start"
	fi
done

# The same body from all four, checked byte for byte; the heads differ
# (each server names itself, nginx adds Connection: keep-alive to a kept
# answer, the floor sends the fewest fields), and their sizes are printed.
servers=(final net/http nginx go-floor)
declare -A addr=([final]=$final_addr [net/http]=$nethttp_addr [nginx]=$nginx_addr [go-floor]=$floor_addr)
declare -A main_pid=([final]=$final_pid [net/http]=$nethttp_pid [nginx]=$nginx_pid [go-floor]=$floor_pid)
for s in "${servers[@]}"; do
	f=$tmp/${s//\//}.response
	get "${addr[$s]}" >"$f"
	body_of "$f" >"$f.body"
	if ! cmp -s "$tmp/body" "$f.body"; then
		echo "GET $path from $s:" >&2
		cat "$f" >&2
		die "$s's body differs from final's"
	fi
	printf '%-9s %-16s pid %-8s %s\n' "$s" "${addr[$s]}" "${main_pid[$s]}" \
		"GET $path: 200, head $(($(wc -c <"$f") - $(wc -c <"$f.body"))) bytes with Connection: close, body $(wc -c <"$f.body") bytes"
done
echo "the same $(wc -c <"$tmp/body")-byte body from all four, here on one line: $(tr -d '\n' <"$tmp/body" | tr -s ' ')"
echo

# --- Measure --------------------------------------------------------------

# cpu_ticks prints the CPU time, user and system, in clock ticks, that
# server $1 has used: its process, all threads included, and its children
# (nginx's worker; the Go servers have none). In /proc/PID/stat, after
# "pid (comm) ", utime and stime are the 14th and 15th fields.
cpu_ticks() {
	local total=0 pid stat fields
	for pid in "${main_pid[$1]}" $(pgrep -P "${main_pid[$1]}" || true); do
		stat=$(<"/proc/$pid/stat")
		read -ra fields <<<"${stat##*) }"
		total=$((total + fields[14 - 3] + fields[15 - 3]))
	done
	echo "$total"
}

# load runs wrk with the arguments given, on wrk's CPU, its report in
# $tmp/wrk.out. wrk runs in the background and the script waits for it, so
# that Ctrl-C stops the script at once, through the INT trap. Run in the
# foreground, wrk would catch the SIGINT itself and end its round early,
# with figures that look whole, and the script would go on.
load() {
	"${on_wrk[@]}" wrk "$@" >"$tmp/wrk.out" &
	wrk_pid=$!
	wait "$wrk_pid"
	wrk_pid=
}

# run_wrk loads server $1 with workload $2 for one round, and appends
# "round workload server requests req/s cpu-µs-per-request errors" to
# $tmp/results. The close workload sends Connection: close on every
# request: each server closes after its answer, and wrk connects again.
run_wrk() {
	local server=$1 workload=$2 round=$3 header=() before after out requests rate cpu_us errors
	if [[ $workload == close ]]; then
		header=(-H 'Connection: close')
	fi
	before=$(cpu_ticks "$server")
	load -t"$threads" -c"$conns" -d"$duration" "${header[@]}" "http://${addr[$server]}$path"
	after=$(cpu_ticks "$server")
	out=$(<"$tmp/wrk.out")
	requests=$(awk '/ requests in / { print $1 }' <<<"$out")
	rate=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
	# What wrk counts as failed: socket errors, and answers other than
	# 2xx or 3xx. Reported, never hidden; a clean round says "none".
	errors=$(grep -E 'Socket errors|Non-2xx' <<<"$out" | sed 's/^ *//' | paste -sd ';' - || true)
	if [[ -z $requests || -z $rate || $requests -eq 0 ]]; then
		printf '%s\n' "$out" >&2
		die "wrk reported no requests from $server"
	fi
	cpu_us=$(awk -v t=$((after - before)) -v hz="$clk_tck" -v n="$requests" 'BEGIN { printf "%.1f", t * 1e6 / hz / n }')
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$workload" "$server" "$requests" "$rate" "$cpu_us" "${errors:-none}" >>"$tmp/results"
	printf '  %-9s %9.0f req/s  %7s µs CPU per request  (%s requests; %.2f s CPU; errors: %s)\n' \
		"$server" "$rate" "$cpu_us" "$requests" "$(awk -v t=$((after - before)) -v hz="$clk_tck" 'BEGIN { print t / hz }')" "${errors:-none}"
}

# ratio_line prints final's CPU per request over nginx's, net/http's and
# the Go floor's in round $1 of workload $2, and the Go floor's over
# nginx's.
ratio_line() {
	awk -F '\t' -v r="$1" -v w="$2" '$1 == r && $2 == w { cpu[$3] = $6 }
		END { printf "  final'\''s CPU per request: %.2f x nginx'\''s, %.2f x net/http'\''s, %.2f x the Go floor'\''s; the Go floor'\''s: %.2f x nginx'\''s\n", cpu["final"] / cpu["nginx"], cpu["final"] / cpu["net/http"], cpu["final"] / cpu["go-floor"], cpu["go-floor"] / cpu["nginx"] }' "$tmp/results"
}

# A second of each workload warms every server first, uncounted, so that
# no round measures a cold start: a heap and goroutine stacks still
# growing, buffers not yet pooled.
echo "warming up: 1 s of each workload on each server, not counted"
for s in "${servers[@]}"; do
	for header in "" "Connection: close"; do
		load -t"$threads" -c"$conns" -d1s ${header:+-H "$header"} "http://${addr[$s]}$path"
	done
done

# Rounds alternate: each round loads every server once in each workload,
# and the order of the servers rotates from one round to the next, so that
# a change in the machine's load during the run falls on all four.
: >"$tmp/results"
for ((round = 1; round <= rounds; round++)); do
	order=()
	for ((i = 0; i < ${#servers[@]}; i++)); do
		order+=("${servers[(i + round - 1) % ${#servers[@]}]}")
	done
	for workload in keep-alive close; do
		echo "round $round of $rounds, $workload:"
		for s in "${order[@]}"; do
			run_wrk "$s" "$workload" "$round"
		done
		ratio_line "$round" "$workload"
	done
done

# --- Summary --------------------------------------------------------------

echo
echo "Summary, min to max over $rounds rounds (CPU: the server's user and system time per request):"
echo
awk -F '\t' '
	function span(lo, hi, fmt) { return sprintf(fmt " to " fmt, lo, hi) }
	function keep(key, v) {
		if (!(key in lo) || v < lo[key]) lo[key] = v
		if (!(key in hi) || v > hi[key]) hi[key] = v
	}
	{
		keep($2 SUBSEP $3 SUBSEP "rate", $5)
		keep($2 SUBSEP $3 SUBSEP "cpu", $6)
		cpu[$1, $2, $3] = $6
		rounds[$1] = 1
	}
	END {
		# µ is two bytes, and awk pads bytes: one space more after it.
		printf "%-11s %-9s %-19s %-18s %-17s %-17s %s\n", "workload", "server", "req/s", "CPU µs/request", "CPU vs nginx", "CPU vs net/http", "CPU vs go-floor"
		n = split("keep-alive close", workloads, " ")
		m = split("final net/http nginx go-floor", servers, " ")
		for (i = 1; i <= n; i++) {
			w = workloads[i]
			for (r in rounds) {
				keep(w SUBSEP "final vs nginx", cpu[r, w, "final"] / cpu[r, w, "nginx"])
				keep(w SUBSEP "final vs net/http", cpu[r, w, "final"] / cpu[r, w, "net/http"])
				keep(w SUBSEP "final vs go-floor", cpu[r, w, "final"] / cpu[r, w, "go-floor"])
				keep(w SUBSEP "go-floor vs nginx", cpu[r, w, "go-floor"] / cpu[r, w, "nginx"])
			}
			for (j = 1; j <= m; j++) {
				s = servers[j]
				k = w SUBSEP s
				ratios = "-                 -                 -"
				if (s == "final")
					ratios = sprintf("%-17s %-17s %s", span(lo[w, "final vs nginx"], hi[w, "final vs nginx"], "%.2f"), span(lo[w, "final vs net/http"], hi[w, "final vs net/http"], "%.2f"), span(lo[w, "final vs go-floor"], hi[w, "final vs go-floor"], "%.2f"))
				if (s == "go-floor")
					ratios = sprintf("%-17s -                 -", span(lo[w, "go-floor vs nginx"], hi[w, "go-floor vs nginx"], "%.2f"))
				printf "%-11s %-9s %-19s %-17s %s\n", w, s, span(lo[k, "rate"], hi[k, "rate"], "%.0f"), span(lo[k, "cpu"], hi[k, "cpu"], "%.1f"), ratios
			}
		}
	}' "$tmp/results"
if awk -F '\t' '$7 != "none" { found = 1 } END { exit !found }' "$tmp/results"; then
	echo
	echo "wrk counted errors in some rounds: see the lines above."
fi
echo
echo "load:     $(cut -d ' ' -f 1-3 /proc/loadavg) (1, 5, 15 min), after the run"
