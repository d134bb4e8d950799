module stage07-shutdown

go 1.25
