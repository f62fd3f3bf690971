package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"
)

// cmdCluster is `exchange cluster`: it shows a cluster node's view
// (GET /cluster on its HTTP address) or asks the leader to change the
// membership. A change sent to a follower is answered 421 with the leader's
// id; the command says so. The endpoints take the admin API's bearer tokens
// (--token or $EXCHANGE_ADMIN_TOKEN, as `exchange admin`): viewer for
// status, operator for changes.
func cmdCluster(args []string, stdout, stderr io.Writer) error {
	return runClusterCmd(args, os.Getenv, stdout, stderr)
}

func runClusterCmd(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("cluster: want status, add, remove or transfer")
	}
	verb := args[0]
	fs := flag.NewFlagSet("exchange cluster "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	httpAddr := fs.String("http", "127.0.0.1:8080", "HTTP address of a cluster node (the leader, for changes)")
	id := fs.String("id", "", "node id (add, remove; transfer: the node to lead, default the most up-to-date)")
	raftAddr := fs.String("raft", "", "add: the new node's raft address (start it first with cluster.join: true)")
	token := fs.String("token", getenv("EXCHANGE_ADMIN_TOKEN"), "admin bearer token (env EXCHANGE_ADMIN_TOKEN): viewer for status, operator for changes")
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
	method := http.MethodGet
	switch verb {
	case "status":
	case "add", "remove", "transfer":
		u.Path += "/" + verb
		method = http.MethodPost
	default:
		return fmt.Errorf("cluster: unknown action %q: want status, add, remove or transfer", verb)
	}
	req, err := http.NewRequest(method, u.String(), nil)
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	if *token != "" {
		req.Header.Set("Authorization", "Bearer "+*token)
	}
	resp, err = client.Do(req)
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
	case http.StatusUnauthorized:
		return errors.New("cluster: a valid admin token is required (--token or EXCHANGE_ADMIN_TOKEN)")
	case http.StatusForbidden:
		return errors.New("cluster: the token's role may not change the membership (an operator token is needed)")
	case http.StatusNotFound:
		return fmt.Errorf("cluster: %s has no cluster endpoint (is it running with a cluster: section?)", *httpAddr)
	}
	return fmt.Errorf("cluster: %s", resp.Status)
}
