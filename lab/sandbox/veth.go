package sandbox

import (
	"fmt"
	"net"

	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// vethSpec is one veth pair created inside one namespace. Index and
// PeerIndex ask the kernel for those interface numbers (0: any), which
// the netlink package cannot do for the peer.
type vethSpec struct {
	Name, PeerName   string
	Index, PeerIndex int
	MTU              int
	PeerMAC          net.HardwareAddr
}

// addVeth sends RTM_NEWLINK for a veth pair in namespace ns, both ends
// there. It writes the request itself so that both ends' IFLA_IFINDEX
// (the ifinfomsg index) can be chosen, as the lesson's numbers need.
func addVeth(ns netns.NsHandle, v vethSpec) error {
	sock, err := nl.GetNetlinkSocketAt(ns, netns.None(), unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("netlink socket: %w", err)
	}
	defer sock.Close()

	req := nl.NewNetlinkRequest(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL|unix.NLM_F_ACK)
	req.Sockets = map[int]*nl.SocketHandle{unix.NETLINK_ROUTE: {Socket: sock}}
	msg := nl.NewIfInfomsg(unix.AF_UNSPEC)
	msg.Index = int32(v.Index)
	req.AddData(msg)
	req.AddData(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(v.Name)))
	if v.MTU > 0 {
		req.AddData(nl.NewRtAttr(unix.IFLA_MTU, nl.Uint32Attr(uint32(v.MTU))))
	}
	// txqueuelen 0 as Calico's netlink calls leave it: `ip link` shows no qlen.
	req.AddData(nl.NewRtAttr(unix.IFLA_TXQLEN, nl.Uint32Attr(0)))
	info := nl.NewRtAttr(unix.IFLA_LINKINFO, nil)
	info.AddRtAttr(nl.IFLA_INFO_KIND, nl.NonZeroTerminated("veth"))
	data := info.AddRtAttr(nl.IFLA_INFO_DATA, nil)
	peer := data.AddRtAttr(nl.VETH_INFO_PEER, nil)
	pm := nl.NewIfInfomsgChild(peer, unix.AF_UNSPEC)
	pm.Index = int32(v.PeerIndex)
	peer.AddRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(v.PeerName))
	if v.MTU > 0 {
		peer.AddRtAttr(unix.IFLA_MTU, nl.Uint32Attr(uint32(v.MTU)))
	}
	peer.AddRtAttr(unix.IFLA_TXQLEN, nl.Uint32Attr(0))
	if v.PeerMAC != nil {
		peer.AddRtAttr(unix.IFLA_ADDRESS, []byte(v.PeerMAC))
	}
	req.AddData(info)
	if _, err := req.Execute(unix.NETLINK_ROUTE, 0); err != nil {
		return fmt.Errorf("add veth %s/%s: %w", v.Name, v.PeerName, err)
	}
	return nil
}
