module flakeid.dev/flakeid

go 1.19
