// The Go reference peer: mdlayher/vsock (and net for TCP) with the same
// roles and scenarios as bench/c/vsock-loop.c. Built by bench/lib/peers.mjs.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mdlayher/vsock"
)

func die(what string, err error) {
	fmt.Fprintf(os.Stderr, "go-vsock-peer: %s: %v\n", what, err)
	os.Exit(1)
}

func inTestGuest() bool {
	b, _ := os.ReadFile("/proc/cmdline")
	for _, w := range strings.Fields(string(b)) {
		if w == "hvsock.testguest=1" {
			return true
		}
	}
	return false
}

func arg(i int) int {
	n, err := strconv.Atoi(os.Args[i])
	if err != nil {
		die("argument", err)
	}
	return n
}

func main() {
	if len(os.Args) < 5 {
		fmt.Fprintln(os.Stderr, "usage: go-vsock-peer <server|client> <vsock|tcp> <port> <bulk|rtt|conn> args...")
		os.Exit(2)
	}
	role, kind, port, scenario := os.Args[1], os.Args[2], arg(3), os.Args[4]
	if kind == "vsock" && !inTestGuest() {
		fmt.Fprintln(os.Stderr, "go-vsock-peer: refusing AF_VSOCK outside the test guest")
		os.Exit(2)
	}
	if role == "server" {
		var l net.Listener
		var err error
		if kind == "vsock" {
			l, err = vsock.Listen(uint32(port), nil)
		} else {
			l, err = net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		}
		if err != nil {
			die("listen", err)
		}
		fmt.Println("ready")
		serve(l, scenario)
		return
	}
	dial := func() net.Conn {
		var c net.Conn
		var err error
		if kind == "vsock" {
			c, err = vsock.Dial(vsock.Local, uint32(port), nil)
		} else {
			c, err = net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		}
		if err != nil {
			die("dial", err)
		}
		return c
	}
	client(dial, scenario)
}

func serve(l net.Listener, scenario string) {
	switch scenario {
	case "bulk": // receive <bytes>, then one byte back
		c, err := l.Accept()
		if err != nil {
			die("accept", err)
		}
		n, err := io.CopyBuffer(io.Discard, io.LimitReader(c, int64(arg(5))), make([]byte, arg(6)))
		if err != nil || n != int64(arg(5)) {
			die("bulk read", err)
		}
		c.Write([]byte{'k'})
		c.Close()
	case "rtt":
		c, err := l.Accept()
		if err != nil {
			die("accept", err)
		}
		buf := make([]byte, arg(6))
		for i := 0; i < arg(5); i++ {
			if _, err := io.ReadFull(c, buf); err != nil {
				die("echo read", err)
			}
			c.Write(buf)
		}
		c.Close()
	case "conn":
		b := make([]byte, 1)
		for i := 0; i < arg(5); i++ {
			c, err := l.Accept()
			if err != nil {
				die("accept", err)
			}
			if _, err := io.ReadFull(c, b); err != nil {
				die("server read", err)
			}
			c.Write(b)
			io.ReadFull(c, b) // the client's close
			c.Close()
		}
	}
	l.Close()
}

func client(dial func() net.Conn, scenario string) {
	out := map[string]float64{}
	switch scenario {
	case "bulk":
		bytes, size := arg(5), arg(6)
		c := dial()
		buf := make([]byte, size)
		for i := range buf {
			buf[i] = 'x'
		}
		start := time.Now()
		for left := bytes; left > 0; left -= size {
			n := size
			if left < n {
				n = left
			}
			if _, err := c.Write(buf[:n]); err != nil {
				die("write", err)
			}
		}
		if _, err := io.ReadFull(c, buf[:1]); err != nil {
			die("ack", err)
		}
		out["seconds"] = time.Since(start).Seconds()
		out["bytes"], out["ops"] = float64(bytes), 1
		c.Close()
	case "rtt":
		rounds, size := arg(5), arg(6)
		c := dial()
		buf := make([]byte, size)
		micros := make([]float64, rounds)
		start := time.Now()
		sent := start
		for i := 0; i < rounds; i++ {
			c.Write(buf)
			if _, err := io.ReadFull(c, buf); err != nil {
				die("ping read", err)
			}
			back := time.Now()
			micros[i] = float64(back.Sub(sent).Nanoseconds()) / 1e3
			sent = back
		}
		out["seconds"] = time.Since(start).Seconds()
		sort.Float64s(micros)
		out["bytes"], out["ops"] = float64(rounds*size*2), float64(rounds)
		out["medianUs"], out["p99Us"] = micros[rounds/2], micros[rounds*99/100]
		c.Close()
	case "conn":
		count := arg(5)
		b := []byte{'c'}
		start := time.Now()
		for i := 0; i < count; i++ {
			c := dial()
			c.Write(b)
			if _, err := io.ReadFull(c, b); err != nil {
				die("client read", err)
			}
			c.Close()
		}
		out["seconds"] = time.Since(start).Seconds()
		out["bytes"], out["ops"] = float64(count*2), float64(count)
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
