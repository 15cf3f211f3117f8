// A plain HashiCorp memberlist node for the interop tests: Debian's golang-github-hashicorp-memberlist-dev
// (0.2.2), built in GOPATH mode. Prints one line per event on stdout:
//   members NAME,NAME,...     the alive members, every 100 ms when they change
//   joined N                  -join succeeded through N peers
//   join-error TEXT           -join failed (memberlist's own error text)
package main

import (
	"encoding/base64"
	"flag"
	"fmt"
	"io/ioutil"
	"log"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/memberlist"
)

func main() {
	name := flag.String("name", "go", "node name")
	bind := flag.String("bind", "127.0.0.1:0", "bind HOST:PORT")
	join := flag.String("join", "", "HOST:PORT to join")
	delegate := flag.String("delegate", "memberlist", "delegate versions: memberlist (0/0/0) or serf (2/5/4)")
	key := flag.String("key", "", "base64 gossip key")
	flag.Parse()

	conf := memberlist.DefaultLocalConfig()
	conf.Name = *name
	host, portText, err := net.SplitHostPort(*bind)
	if err != nil {
		log.Fatal(err)
	}
	port, _ := strconv.Atoi(portText)
	conf.BindAddr = host
	conf.BindPort = port
	conf.AdvertisePort = port
	conf.LogOutput = ioutil.Discard
	if *delegate == "serf" {
		conf.DelegateProtocolMin, conf.DelegateProtocolMax, conf.DelegateProtocolVersion = 2, 5, 4
	}
	if *key != "" {
		k, err := base64.StdEncoding.DecodeString(*key)
		if err != nil {
			log.Fatal(err)
		}
		conf.SecretKey = k
	}
	list, err := memberlist.Create(conf)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening %s:%d\n", host, list.LocalNode().Port)
	if *join != "" {
		n, err := list.Join([]string{*join})
		if err != nil {
			fmt.Printf("join-error %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		} else {
			fmt.Printf("joined %d\n", n)
		}
	}
	last := ""
	for {
		var names []string
		for _, m := range list.Members() {
			names = append(names, m.Name)
		}
		sort.Strings(names)
		line := strings.Join(names, ",")
		if line != last {
			fmt.Printf("members %s\n", line)
			last = line
		}
		os.Stdout.Sync()
		time.Sleep(100 * time.Millisecond)
	}
}
