package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// cmdCluster is `exchange cluster`: it shows a cluster node's view
// (GET /cluster on its HTTP address) or asks the leader to change the
// membership. A change sent to a follower is answered 421 with the leader's
// id; the command says so.
func cmdCluster(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("cluster: want status, add, remove or transfer")
	}
	verb := args[0]
	fs := flag.NewFlagSet("exchange cluster "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	httpAddr := fs.String("http", "127.0.0.1:8080", "HTTP address of a cluster node (the leader, for changes)")
	id := fs.String("id", "", "node id (add, remove; transfer: the node to lead, default the most up-to-date)")
	raftAddr := fs.String("raft", "", "add: the new node's raft address (start it first with cluster.join: true)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	q := url.Values{}
	if *id != "" {
		q.Set("id", *id)
	}
	if *raftAddr != "" {
		q.Set("raft", *raftAddr)
	}
	u := url.URL{Scheme: "http", Host: *httpAddr, Path: "/cluster", RawQuery: q.Encode()}
	client := &http.Client{Timeout: 15 * time.Second}
	var (
		resp *http.Response
		err  error
	)
	switch verb {
	case "status":
		resp, err = client.Get(u.String())
	case "add", "remove", "transfer":
		u.Path += "/" + verb
		resp, err = client.Post(u.String(), "", nil)
	default:
		return fmt.Errorf("cluster: unknown action %q: want status, add, remove or transfer", verb)
	}
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	stdout.Write(body)
	switch resp.StatusCode {
	case http.StatusOK:
		return nil
	case http.StatusMisdirectedRequest:
		return errors.New("cluster: that node is not the leader (see \"leader\" above); send the change to the leader's HTTP address")
	case http.StatusNotFound:
		return fmt.Errorf("cluster: %s has no cluster endpoint (is it running with a cluster: section?)", *httpAddr)
	}
	return fmt.Errorf("cluster: %s", resp.Status)
}
