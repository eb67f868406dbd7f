package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
)

// Cluster is the cluster section: cluster mode (docs/cluster.md).
type Cluster struct {
	Enabled         bool     `yaml:"enabled"`
	NodeName        string   `yaml:"node_name"`
	Advertise       string   `yaml:"advertise"`
	NATSListen      string   `yaml:"nats_listen"`
	RoutesListen    string   `yaml:"routes_listen"`
	RoutesAdvertise string   `yaml:"routes_advertise"`
	Routes          []string `yaml:"routes"`
	NATSURL         string   `yaml:"nats_url"`
	Replicas        int      `yaml:"replicas"`
}

var nodeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)

// validate checks the section when cluster mode is on; its defaults are
// the embedded file's.
func (c *Cluster) validate() error {
	if !c.Enabled {
		return nil
	}
	if c.NodeName != "" && !nodeName.MatchString(c.NodeName) {
		return fmt.Errorf("cluster.node_name is %q; it must be 1-63 characters of A-Z a-z 0-9 _ . -, starting with a letter or digit (flag --node-name)", c.NodeName)
	}
	if c.Advertise != "" {
		u, err := url.Parse(c.Advertise)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Port() == "" || (u.Path != "" && u.Path != "/") {
			return fmt.Errorf("cluster.advertise is %q; it must be http://host:port or https://host:port (flag --advertise)", c.Advertise)
		}
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		return fmt.Errorf("cluster.replicas is %d; it must be from 1 to 5", c.Replicas)
	}
	if c.NATSURL != "" {
		return nil
	}
	for _, a := range []struct{ key, v string }{{"cluster.nats_listen", c.NATSListen}, {"cluster.routes_listen", c.RoutesListen}} {
		if _, port, err := net.SplitHostPort(a.v); err != nil || port == "" || port == "0" {
			return fmt.Errorf("%s is %q; it must be host:port with a fixed port", a.key, a.v)
		}
	}
	if c.RoutesAdvertise != "" {
		if _, port, err := net.SplitHostPort(c.RoutesAdvertise); err != nil || port == "" || port == "0" {
			return fmt.Errorf("cluster.routes_advertise is %q; it must be host:port (flag --routes-advertise)", c.RoutesAdvertise)
		}
	}
	for i, r := range c.Routes {
		if _, port, err := net.SplitHostPort(r); err != nil || port == "" {
			return fmt.Errorf("cluster.routes[%d] is %q; it must be host:port (flag --routes)", i, r)
		}
	}
	if len(c.Routes) < c.Replicas && c.Replicas > 1 {
		return fmt.Errorf("cluster.routes names %d nodes and cluster.replicas is %d: list every node's routes_listen address, this one's included (flag --routes)", len(c.Routes), c.Replicas)
	}
	return nil
}
