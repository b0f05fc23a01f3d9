package content

import (
	"strings"
	"testing"
	"testing/fstest"

	"podlab/packs"
)

// FuzzPack loads packs whose manifest, step block and body are the
// fuzzer's: loading never panics or hangs, errors are lines naming a
// file, and what a loaded pack shows holds no control character.
func FuzzPack(f *testing.F) {
	manifest, err := packs.FS.ReadFile(BuiltinName + "/pack.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(manifest), "where: pod\nrun: ip addr\npod: addr\nhighlight: pod-ip", "The pod holds {{.PodIP}}.", "198.19.22.132")
	f.Add(string(manifest), "where: pod\nask: Which?\nanswer: PodPeerIndex\ncompare: index\nwrong: got == PodIndex => own {{.PodIndex}}\nhint: look", "{{if .Differs.PodIP}}x{{end}}", "@if9")
	f.Add("format: 1\nname: x\n", "where: node", "{{range .Lesson}}{{end}}", "")
	f.Add(string(manifest), "where: pod\nask: Q\nanswer: [1,2].map(x, x*2).size()\ncompare: int", "b", "2")
	f.Fuzz(func(t *testing.T, manifest, block, body, answer string) {
		if len(manifest)+len(block)+len(body) > 64<<10 {
			return
		}

		m := fstest.MapFS{
			"p/pack.yaml": {Data: []byte(manifest)},
			"p/1-s.md":    {Data: []byte("# Section\n\n## Step\n<!-- step\n" + block + "\n-->\n" + body + "\n")},
		}
		pk, errs := Load(m, "p")
		for _, e := range errs {
			if !strings.HasPrefix(e.Error(), "p/") && !strings.HasPrefix(e.Error(), "p:") {
				t.Errorf("error %q names no file", e)
			}
		}
		if pk == nil {
			return
		}
		for _, sec := range pk.Sections {
			for _, st := range sec.Steps {
				for _, v := range []Vars{{}, pk.Example()} {
					for _, s := range []string{st.Title, st.Render(v), st.RenderAsking(v), st.Question(v), st.Check(v, answer).Hint} {
						if strings.ContainsAny(s, "\x1b\x07\x00\u009b") {
							t.Errorf("%q holds a control character", s)
						}
					}
				}
			}
		}
	})
}
