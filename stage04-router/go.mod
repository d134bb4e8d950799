module stage04-router

go 1.25
