// Command etcd is the stock etcd server, built here from the Go module proxy
// so the cluster tests need no downloaded release binary.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
