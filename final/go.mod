module final

go 1.25
