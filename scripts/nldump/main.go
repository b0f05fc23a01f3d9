// Command nldump is the baseline scripts/bench-scale.sh times podlab
// against: a bare vishvananda/netlink dump of links, addresses, routes
// (every table) and neighbours in each named namespace, printing counts.
package main

import (
	"fmt"
	"os"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: nldump NETNS...")
		os.Exit(2)
	}
	for _, name := range os.Args[1:] {
		if err := dump(name); err != nil {
			fmt.Fprintf(os.Stderr, "nldump: %s: %v\n", name, err)
			os.Exit(1)
		}
	}
}

func dump(name string) error {
	ns, err := netns.GetFromName(name)
	if err != nil {
		return err
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	links, err := h.LinkList()
	if err != nil {
		return err
	}
	addrs, err := h.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return err
	}
	routes, err := h.RouteListFiltered(netlink.FAMILY_ALL, &netlink.Route{Table: unix.RT_TABLE_UNSPEC}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return err
	}
	neighs, err := h.NeighList(0, unix.AF_UNSPEC)
	if err != nil {
		return err
	}
	fmt.Printf("%s: %d links, %d addrs, %d routes, %d neighs\n", name, len(links), len(addrs), len(routes), len(neighs))
	return nil
}
