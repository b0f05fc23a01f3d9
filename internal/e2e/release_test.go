package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"podlab/internal/netnstest"
)

// TestRelease: scripts/release.sh run twice on this commit gives the same
// bytes; the tarballs hold a static, stripped podlab with the version
// stamped in and the README; the arm64 binary prints its version under
// qemu-aarch64-static; the amd64 one runs the lesson on the built-in
// recording; the krew manifest carries the tarballs' checksums.
func TestRelease(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("the release is built and checked on linux/amd64")
	}
	const version = "0.0.0-test"
	script, err := filepath.Abs("../../scripts/release.sh")
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for range 2 {
		dir := t.TempDir()
		cmd := exec.Command(script, version, dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("release.sh: %v\n%s", err, out)
		}
		dirs = append(dirs, dir)
	}
	sums := make([]string, 2)
	for i, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "SHA256SUMS"))
		if err != nil {
			t.Fatal(err)
		}
		sums[i] = string(b)
	}
	if sums[0] != sums[1] {
		t.Errorf("two runs on one commit differ:\n%s\n%s", sums[0], sums[1])
	}
	for _, arch := range []string{"amd64", "arm64"} {
		name := "podlab_" + version + "_linux_" + arch
		if !strings.Contains(sums[0], name+".tar.gz") {
			t.Errorf("SHA256SUMS lacks %s.tar.gz:\n%s", name, sums[0])
		}
	}
	manifest, err := os.ReadFile(filepath.Join(dirs[0], "podlab.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSpace(sums[0]), "\n") {
		if sum, _, _ := strings.Cut(l, " "); !strings.Contains(string(manifest), "sha256: "+sum) {
			t.Errorf("the krew manifest lacks the checksum %s", sum)
		}
	}

	bins := map[string]string{}
	for _, arch := range []string{"amd64", "arm64"} {
		name := "podlab_" + version + "_linux_" + arch
		files := untar(t, filepath.Join(dirs[0], name+".tar.gz"), t.TempDir())
		for _, want := range []string{name + "/podlab", name + "/README.md", name + "/kubectl_complete-podlab"} {
			if _, ok := files[want]; !ok {
				t.Errorf("%s.tar.gz lacks %s (has %v)", name, want, files)
			}
		}
		bin := files[name+"/podlab"]
		bins[arch] = bin
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatalf("%s: %v", bin, err)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s: dynamically linked (has an interpreter), want static", name)
			}
		}
		if f.Section(".symtab") != nil {
			t.Errorf("%s: not stripped (has .symtab)", name)
		}
		f.Close()
	}

	out, err := exec.Command(bins["amd64"], "version").Output()
	if err != nil || !strings.Contains(string(out), "podlab "+version) || !strings.Contains(string(out), "linux/amd64") {
		t.Errorf("amd64 version: %v: %s", err, out)
	}
	t.Run("arm64 under qemu", func(t *testing.T) {
		qemu := netnstest.RequireCommand(t, "qemu-aarch64-static", "apt-get install qemu-user-static")
		out, err := exec.Command(qemu, bins["arm64"], "version").Output()
		if err != nil || !strings.Contains(string(out), "podlab "+version) || !strings.Contains(string(out), "linux/arm64") {
			t.Errorf("qemu-aarch64-static podlab version: %v: %s", err, out)
		}
	})
	t.Run("amd64 lesson on the recording", func(t *testing.T) {
		tm := newTermWith(t, bins["amd64"], 80, 24, "--lab", "recording", "--plain")
		tm.waitText(wait, "recording", "refreshed")
		tm.keys("2", "n")
		tm.waitText(wait, "2/4 How Pods")
		tm.quit()
	})
}

// untar unpacks a release tarball into dir and returns its regular files
// by their name in the tarball.
func untar(t *testing.T, path, dir string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	tr := tar.NewReader(zr)
	files := map[string]string{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		if strings.Contains(h.Name, "..") || filepath.IsAbs(h.Name) {
			t.Fatalf("%s: entry %q leaves the directory", path, h.Name)
		}
		dst := filepath.Join(dir, h.Name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)&0o755)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(f, tr); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		files[h.Name] = dst
	}
	return files
}
