// delay-line joins two network interfaces and holds every Ethernet frame for a set time before passing it
// on, both ways: a real link delay for fault tests on kernels without sch_netem. It reads frames with
// AF_PACKET sockets, so it needs root (CAP_NET_RAW) in the namespace where both interfaces live.
//
// Usage: delay-line IFACE_A IFACE_B. Each stdin line "delay MS" sets the one-way delay (0 at start). It
// prints "ready" once both sockets are bound, and exits when stdin closes.
//
// A frame read from a packet socket is passed on as it is, so the hosts whose frames cross the line must
// send them whole: run "delay-line whole-frames IFACE..." in each host's namespace first. It turns off
// transmit checksum offload (else a frame carries a checksum the sender's NIC was to fill in, and the
// receiver drops it) and segmentation offload (else one frame can be 64 KiB, more than the link carries),
// as `ethtool -K IFACE tx off tso off gso off` does, without needing ethtool.
//
// A frame waits in a queue of at most queueFrames per direction; when that is full it is dropped, as a
// router's full buffer drops. The delay applies per frame from when it was read, so order is kept.
package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

const queueFrames = 65536

var delay atomic.Int64 // nanoseconds

type frame struct {
	data []byte
	due  time.Time
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func bindRaw(name string) int {
	iface, err := net.InterfaceByName(name)
	if err != nil {
		fail("interface %s: %v", name, err)
	}
	fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW, int(htons(syscall.ETH_P_ALL)))
	if err != nil {
		fail("socket: %v", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrLinklayer{Protocol: htons(syscall.ETH_P_ALL), Ifindex: iface.Index}); err != nil {
		fail("bind %s: %v", name, err)
	}
	return fd
}

// pump passes what arrives on `from` to `to` after the delay. Frames this side sent itself (outgoing) are
// skipped, or every frame would loop.
func pump(from, to int) {
	queue := make(chan frame, queueFrames)
	go func() {
		for f := range queue {
			if wait := time.Until(f.due); wait > 0 {
				time.Sleep(wait)
			}
			for {
				if _, err := syscall.Write(to, f.data); err != syscall.EINTR {
					break
				}
			}
		}
	}()
	buf := make([]byte, 65536)
	for {
		n, sender, err := syscall.Recvfrom(from, buf, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			fail("recvfrom: %v", err)
		}
		if link, ok := sender.(*syscall.SockaddrLinklayer); ok && link.Pkttype == syscall.PACKET_OUTGOING {
			continue
		}
		f := frame{data: append([]byte(nil), buf[:n]...), due: time.Now().Add(time.Duration(delay.Load()))}
		select {
		case queue <- f:
		default:
		}
	}
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "delay-line: "+format+"\n", args...)
	os.Exit(1)
}

// The legacy ethtool ioctl: each command sets one offload on or off.
const (
	siocEthtool    = 0x8946
	ethtoolSTxCsum = 0x17
	ethtoolSTso    = 0x1f
	ethtoolSGso    = 0x24
)

type ethtoolValue struct {
	cmd  uint32
	data uint32
}

// Package-level, so that their addresses stay put while the kernel reads them (a stack can move).
var (
	value   ethtoolValue
	request ifreq
)

type ifreq struct {
	name [16]byte
	data uintptr
	_    [16]byte
}

func wholeFrames(names []string) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM, 0)
	if err != nil {
		fail("socket: %v", err)
	}
	defer syscall.Close(fd)
	for _, name := range names {
		for _, cmd := range []uint32{ethtoolSTso, ethtoolSGso, ethtoolSTxCsum} {
			value = ethtoolValue{cmd: cmd, data: 0}
			request = ifreq{}
			copy(request.name[:], name)
			request.data = uintptr(unsafe.Pointer(&value))
			if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), siocEthtool, uintptr(unsafe.Pointer(&request))); errno != 0 {
				fail("offload %#x off on %s: %v", cmd, name, errno)
			}
		}
	}
}

func main() {
	if len(os.Args) >= 3 && os.Args[1] == "whole-frames" {
		wholeFrames(os.Args[2:])
		return
	}
	if len(os.Args) != 3 {
		fail("usage: delay-line IFACE_A IFACE_B")
	}
	a, b := bindRaw(os.Args[1]), bindRaw(os.Args[2])
	go pump(a, b)
	go pump(b, a)
	fmt.Println("ready")
	lines := bufio.NewScanner(os.Stdin)
	for lines.Scan() {
		fields := strings.Fields(lines.Text())
		if len(fields) == 2 && fields[0] == "delay" {
			ms, err := strconv.ParseFloat(fields[1], 64)
			if err == nil && ms >= 0 {
				delay.Store(int64(ms * float64(time.Millisecond)))
				fmt.Println("ok")
				continue
			}
		}
		fmt.Println("error: expected 'delay MS'")
	}
}
