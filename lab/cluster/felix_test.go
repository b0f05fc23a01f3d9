package cluster

import (
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"podlab/internal/kubetest"
)

// TestInterfacePrefix: the facts name Felix's interface prefix as
// --interface-prefix gives it, else as FelixConfiguration default sets
// it, else Felix's default; what cannot be read or is not a prefix is
// noted, never used.
func TestInterfacePrefix(t *testing.T) {
	s := kubetest.Start(t)
	addNodes(t, s)
	addYaobank(t, s)
	tests := []struct {
		name   string
		spec   map[string]any // nil: no FelixConfiguration at all
		flag   string
		want   string
		noted  string
		asUser bool
	}{
		{name: "no FelixConfiguration", want: ""},
		{name: "the flag", flag: "tap", want: "tap"},
		{name: "FelixConfiguration default", spec: map[string]any{"interfacePrefix": "tap"}, want: "tap"},
		{name: "the flag over FelixConfiguration", spec: map[string]any{"interfacePrefix": "tap"}, flag: "cali", want: "cali"},
		{name: "no interfacePrefix set", spec: map[string]any{"logSeverityScreen": "Info"}, want: ""},
		{name: "several prefixes", spec: map[string]any{"interfacePrefix": "tap,cali"}, want: "tap", noted: "podlab follows the first, tap"},
		{name: "not a prefix", spec: map[string]any{"interfacePrefix": "\x1b[2Jcali"}, want: "", noted: "is not an interface prefix"},
		{name: "not a string", spec: map[string]any{"interfacePrefix": 7}, want: ""},
		{name: "forbidden", spec: map[string]any{"interfacePrefix": "tap"}, want: "", asUser: true,
			noted: `forbidden: cannot get felixconfigurations.crd.projectcalico.org (workload interfaces are taken to start with cali)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.spec != nil {
				s.SetFelixConfiguration(t, tc.spec)
			}
			kc := s.Kubeconfig
			if tc.asUser {
				user := "podlab-felix-student"
				kc = s.KubeconfigFor(t, user)
				s.Allow(t, "", user, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods", "nodes"}, Verbs: []string{"get", "list"}})
			}
			l, err := open(t, Options{Kubeconfig: kc, InterfacePrefix: tc.flag})
			if err != nil {
				t.Fatal(err)
			}
			if got := l.Facts().InterfacePrefix; got != tc.want {
				t.Errorf("interface prefix %q, want %q", got, tc.want)
			}
			d := l.Describe()
			if tc.noted != "" && !strings.Contains(d, tc.noted) {
				t.Errorf("Describe does not say %q: %s", tc.noted, d)
			}
			if tc.noted == "" && strings.Contains(strings.ToLower(d), "felix") {
				t.Errorf("Describe notes Felix's configuration with nothing to say: %s", d)
			}
			if strings.ContainsAny(d, "\x1b\n") {
				t.Errorf("Describe carries a control character: %q", d)
			}
		})
	}
}
