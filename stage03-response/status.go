package main

import (
	"errors"
	"fmt"
	"strconv"
)

// The server's one vocabulary of refusal, from the parser to the wire: an
// error that carries the status to answer with, and a text that is safe to
// send. Whatever refuses a request returns one, and whatever answers the
// client turns it into a response of that status and that text.

// maxQuote bounds how much of a client's input goes into a log line or an
// error's text (clip, quote). Arbitrary: enough to recognise it.
const maxQuote = 64

// statusError is a request the server refuses: the status code that says
// why, and a short text for the response body. The text is fixed; where it
// names the client's input, it does so through quote. An error wrapping a
// statusError may quote more for the log.
type statusError struct {
	code int
	text string
}

func (e statusError) Error() string { return strconv.Itoa(e.code) + " " + e.text }

// errNoRequest means that no request began: the connection ended, or the
// wait for its first byte timed out, before a byte came. It is not a
// statusError, because there is no one to answer: the server closes the
// connection.
var errNoRequest = errors.New("no request: the connection ended before its first byte")

// clip cuts s to maxQuote bytes, and marks the cut: all of a client's
// input that a log line carries.
func clip(s string) string {
	if len(s) > maxQuote {
		return s[:maxQuote] + "..."
	}
	return s
}

// quote is clip as a Go string literal, "/a\x00b": the only way a client's
// input goes into an error's text.
func quote(s string) string { return strconv.Quote(clip(s)) }

// reject returns an error answered with code and text, whose message, for
// the log, quotes the offending input.
func reject(code int, text, input string) error {
	return fmt.Errorf("%w: %s", statusError{code, text}, quote(input))
}

// badRequest is reject with 400 Bad Request.
func badRequest(text, input string) error { return reject(400, text, input) }
