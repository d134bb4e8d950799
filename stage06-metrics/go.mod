module stage06-metrics

go 1.25
