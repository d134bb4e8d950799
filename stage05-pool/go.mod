module stage05-pool

go 1.25
