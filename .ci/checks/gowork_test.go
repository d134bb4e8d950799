package main

import "testing"

func TestWorkUses(t *testing.T) {
	tests := []struct {
		name    string
		gowork  string
		want    []string
		wantErr bool
	}{
		{"single_lines", "go 1.25\n\nuse ./stage01-tcp-echo\nuse ./stage02-parser // next\n",
			[]string{"./stage01-tcp-echo", "./stage02-parser"}, false},
		{"block", "go 1.25\n\nuse (\n\t./stage01-tcp-echo\n\t// ./commented-out\n\t\"./final\"\n)\n",
			[]string{"./stage01-tcp-echo", "./final"}, false},
		{"other_blocks_skipped", "go 1.25\ngodebug (\n\tpanicnil=1\n)\nreplace (\n\tx => ./y\n)\nuse .\n",
			[]string{"."}, false},
		{"none", "go 1.25\n", nil, false},
		{"use_without_dir", "use\n", nil, true},
		{"unclosed_block", "use (\n\t./a\n", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := workUses(tt.gowork)
			if (err != nil) != tt.wantErr {
				t.Fatalf("workUses error = %v; want error %v", err, tt.wantErr)
			}
			assertLines(t, "workUses", got, tt.want)
		})
	}
}
