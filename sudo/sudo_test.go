package sudo

import (
	"bytes"
	"os"
	"os/user"
	"strings"
	"testing"

	"podlab/internal/netnstest"
)

func TestInvoker(t *testing.T) {
	lookup := func(name string) (*user.User, error) {
		if name == "student" {
			return &user.User{Username: "student", Uid: "1000", Gid: "1001", HomeDir: "/home/student"}, nil
		}
		return nil, user.UnknownUserError(name)
	}
	under := map[string]string{"SUDO_USER": "student", "SUDO_UID": "1000", "SUDO_GID": "1001"}
	tests := []struct {
		name string
		env  map[string]string
		euid int
		want *User
		err  string // in the error, "" for none
	}{
		{"under sudo", under, 0, &User{Name: "student", UID: 1000, GID: 1001}, ""},
		{"not root", under, 1000, nil, ""},
		{"plain root", map[string]string{}, 0, nil, ""},
		{"sudo to root", map[string]string{"SUDO_USER": "root", "SUDO_UID": "0", "SUDO_GID": "0"}, 0, nil, ""},
		{"unknown user", map[string]string{"SUDO_USER": "ghost", "SUDO_UID": "1002", "SUDO_GID": "1003"}, 0, &User{Name: "ghost", UID: 1002, GID: 1003}, ""},
		{"bad uid", map[string]string{"SUDO_USER": "student", "SUDO_UID": "x", "SUDO_GID": "1001"}, 0, nil, "SUDO_UID"},
		{"no gid", map[string]string{"SUDO_USER": "student", "SUDO_UID": "1000"}, 0, nil, "SUDO_GID"},
		{"uid 0 for a student", map[string]string{"SUDO_USER": "student", "SUDO_UID": "0", "SUDO_GID": "0"}, 0, nil, "SUDO_UID"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := invoker(func(k string) string { return tc.env[k] }, tc.euid, lookup)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || u != nil {
					t.Fatalf("got %+v, %v; want an error about %s", u, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (u == nil) != (tc.want == nil) {
				t.Fatalf("got %+v, want %+v", u, tc.want)
			}
			if u == nil {
				return
			}
			if u.Name != tc.want.Name || u.UID != tc.want.UID || u.GID != tc.want.GID || len(u.Groups) == 0 || u.Groups[0] != tc.want.GID {
				t.Errorf("got %+v, want %+v with its group first", u, tc.want)
			}
		})
	}
}

// TestDo: the thread the user's file work runs on has their ids
// and groups and none of root's capabilities.
func TestDo(t *testing.T) {
	netnstest.RequireRoot(t)
	u := &User{Name: "nobody", UID: 65534, GID: 65534, Groups: []int{65534, 4242}}
	var status []byte
	if err := u.Do(func() error {
		var err error
		status, err = os.ReadFile("/proc/thread-self/status")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Uid:\t65534\t65534\t65534\t65534\n",
		"Gid:\t65534\t65534\t65534\t65534\n",
		"Groups:\t4242 65534 \n",
		"CapEff:\t0000000000000000\n",
	} {
		if !bytes.Contains(status, []byte(want)) {
			t.Errorf("the thread's status lacks %q:\n%s", want, status)
		}
	}
}
