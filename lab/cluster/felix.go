package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"podlab/netview"
)

// felixConfigurationPath is Felix's cluster-wide configuration, the one
// named default (felixconfigurations.crd.projectcalico.org, v1).
const felixConfigurationPath = "/apis/crd.projectcalico.org/v1/felixconfigurations/default"

// maxFelixConfiguration bounds its JSON: a few kilobytes in practice.
const maxFelixConfiguration = 1 << 20

// felixInterfacePrefix reads FelixConfiguration default's interfacePrefix:
// "" when it sets none. A cluster without Calico's CRDs, or without that
// object, answers NotFound.
func (c *coreClient) felixInterfacePrefix(ctx context.Context) (string, error) {
	body, err := c.rest.Get().AbsPath(felixConfigurationPath).
		SetHeader("Accept", "application/json").
		Stream(withBudget(ctx, min(c.budget, maxFelixConfiguration)))
	if err != nil {
		return "", answerError(err)
	}
	defer body.Close()
	raw, err := io.ReadAll(body)
	if err != nil {
		return "", answerError(err)
	}
	var obj struct {
		Kind string `json:"kind"`
		Spec struct {
			InterfacePrefix any `json:"interfacePrefix"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil || obj.Kind != "FelixConfiguration" {
		return "", errors.New("the answer is not a FelixConfiguration")
	}
	s, _ := obj.Spec.InterfacePrefix.(string)
	return s, nil
}

// interfacePrefix is Felix's workload interface prefix as the cluster
// configures it; "" (Felix's default) when it does not say or cannot be
// read, with a note saying why when it could not.
func (d *discovery) interfacePrefix(ctx context.Context) string {
	s, err := d.client.felixInterfacePrefix(ctx)
	switch {
	case err == nil:
	case apierrors.IsNotFound(err):
		return ""
	default:
		d.note("%s (workload interfaces are taken to start with %s): ask for \"get felixconfigurations.crd.projectcalico.org\", or give --interface-prefix",
			d.gap(err, request{"get", "felixconfigurations.crd.projectcalico.org", ""}), netview.DefaultInterfacePrefix)
		return ""
	}
	// Felix takes a comma-separated list; podlab follows one prefix.
	first, _, several := strings.Cut(s, ",")
	first = strings.TrimSpace(first)
	if s == "" {
		return ""
	}
	if !netview.ValidInterfacePrefix(first) {
		d.note("FelixConfiguration default's interfacePrefix is not an interface prefix: workload interfaces are taken to start with %s", netview.DefaultInterfacePrefix)
		return ""
	}
	if several {
		d.note("FelixConfiguration default names several interface prefixes: podlab follows the first, %s", first)
	}
	return first
}
