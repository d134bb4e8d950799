module stage03-response

go 1.25
