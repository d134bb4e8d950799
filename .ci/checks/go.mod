module checks

go 1.25
