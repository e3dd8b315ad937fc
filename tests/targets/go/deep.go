// A Go program for the Go tests (built only when golang-go is installed):
// main.deep recurses ROUNDS (argv[1], default 1) times 2000 levels deep, so
// 2001 calls a round, with a 256-byte frame each, which makes the runtime
// grow (move) the goroutine's stack. Then it prints "done SUM".
package main

import (
	"fmt"
	"os"
	"strconv"
)

//go:noinline
func deep(n int) int {
	if n == 0 {
		return 0
	}
	var buf [256]byte
	buf[n%256] = byte(n)
	return deep(n-1) + int(buf[n%256])
}

func main() {
	rounds := 1
	if len(os.Args) > 1 {
		rounds, _ = strconv.Atoi(os.Args[1])
	}
	sum := 0
	for i := 0; i < rounds; i++ {
		sum += deep(2000)
	}
	fmt.Println("done", sum)
}
