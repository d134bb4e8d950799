module stage01-tcp-echo

go 1.25
