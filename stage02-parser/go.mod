module stage02-parser

go 1.25
