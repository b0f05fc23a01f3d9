package content

// data is what a template of the pack sees: every fact as text (a
// stand-in when unknown), values computed from them, the pack's derived
// values, .Lesson with the example's values and .Differs with, per value
// the pack compares, whether the live value is known and differs.
func (pk *Pack) data(v *Vars) map[string]any {
	d := v.fields(true)
	raw := v.fields(false)
	les := pk.example.fields(true)
	differs := map[string]bool{}
	for _, k := range pk.Differs {
		differs[k] = raw[k] != "" && raw[k] != les[k]
		if differs[k] {
			d["LiveDiffers"] = true
		}
	}
	d["Lesson"] = les
	d["Differs"] = differs
	if pk.exprs != nil && len(pk.exprs.derived) > 0 {
		act := pk.exprs.activation(v)
		for _, x := range pk.exprs.derived {
			d[x.name] = act[x.name]
		}
	}
	return d
}

// Data is what a body of the built-in lesson sees; see Pack.data.
func (v Vars) Data() map[string]any {
	pk, err := loadLesson()
	if err != nil {
		return v.fields(true)
	}
	return pk.data(&v)
}
