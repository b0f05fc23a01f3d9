package netview

import "testing"

func TestRedactURL(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"https://10.0.0.1:6443", "https://10.0.0.1:6443"},
		{"https://ana:s3cret@10.0.0.1:6443/x?y=1", "https://ana:xxxxx@10.0.0.1:6443/x?y=1"},
		{"https://ana@10.0.0.1:6443", "https://ana@10.0.0.1:6443"},
		{"ana:s3cret@10.0.0.1:6443", "ana:xxxxx@10.0.0.1:6443"},
		{"https://ana:s3cret@10.0.0.1:99999", "https://ana:xxxxx@10.0.0.1:99999"},
		{"http://a:b@c@h:1/p@q", "http://a:xxxxx@h:1/p@q"},
		{"10.0.0.1:6443", "10.0.0.1:6443"},
	} {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
