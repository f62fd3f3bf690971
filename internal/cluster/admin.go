package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hashicorp/raft"
)

// Status is what GET /cluster answers.
type Status struct {
	ID         string   `json:"id"`
	State      string   `json:"state"` // raft's: Leader, Follower, Candidate, Shutdown
	Leading    bool     `json:"leading"`
	Leader     *Peer    `json:"leader,omitempty"`
	Servers    []Server `json:"servers"`
	JournalSeq uint64   `json:"journal_seq"`
	Term       string   `json:"term"`
	Stats      Stats    `json:"stats"`
	Err        string   `json:"error,omitempty"`
}

// Server is one member of the raft configuration.
type Server struct {
	ID       string `json:"id"`
	Raft     string `json:"raft"`
	Suffrage string `json:"suffrage"`
}

// Status reads the node's view of the cluster.
func (n *Node) Status() Status {
	st := Status{ID: n.cfg.ID, State: n.raft.State().String(), Leading: n.IsLeader(), JournalSeq: n.AppliedSeq(),
		Term: n.raft.Stats()["term"], Stats: n.Stats()}
	if p, ok := n.Leader(); ok {
		st.Leader = &p
	}
	if err := n.Err(); err != nil {
		st.Err = err.Error()
	}
	if f := n.raft.GetConfiguration(); f.Error() == nil {
		for _, s := range f.Configuration().Servers {
			st.Servers = append(st.Servers, Server{ID: string(s.ID), Raft: string(s.Address), Suffrage: s.Suffrage.String()})
		}
	}
	return st
}

// AddVoter adds a node (started with Config.Join) to the cluster; RemoveServer
// removes one; TransferLeadership hands leadership to id, or to the most
// up-to-date follower when id is empty. Each must run on the leader and
// returns once the change is committed (at most timeout).
func (n *Node) AddVoter(id, raftAddr string, timeout time.Duration) error {
	return n.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(raftAddr), 0, timeout).Error()
}

// RemoveServer removes node id from the cluster (see AddVoter).
func (n *Node) RemoveServer(id string, timeout time.Duration) error {
	return n.raft.RemoveServer(raft.ServerID(id), 0, timeout).Error()
}

// TransferLeadership moves leadership (see AddVoter). The leader first stops
// taking orders and lets those it took commit (at most transferDrain):
// raft refuses new entries during a transfer, so without the drain every
// command in flight would fail to replicate and be lost (never
// acknowledged, but lost all the same). The reports of the drained
// commands are not sent (the node no longer leads); clients learn them from
// status requests to the new leader, as after a failover.
func (n *Node) TransferLeadership(id string) (err error) {
	addr := raft.ServerAddress("")
	if id != "" {
		for _, s := range n.Status().Servers {
			if s.ID == id {
				addr = raft.ServerAddress(s.Raft)
			}
		}
		if addr == "" {
			return fmt.Errorf("cluster: no server %q", id)
		}
	}
	if n.leading.CompareAndSwap(true, false) {
		defer func() {
			if err != nil && n.raft.State() == raft.Leader {
				n.mu.Lock()
				if n.mode == modeLeader {
					n.leading.Store(true)
				}
				n.mu.Unlock()
			}
		}()
		n.drainVenue(transferDrain)
	}
	if id == "" {
		err = n.raft.LeadershipTransfer().Error()
	} else {
		err = n.raft.LeadershipTransferToServer(raft.ServerID(id), addr).Error()
	}
	if err != nil && id == "" && n.movedAway(transferSettle) {
		// raft reports a transfer that an election overtook ("leadership
		// lost") as failed; what the operator asked for, another node
		// leading, happened all the same.
		return nil
	}
	return err
}

// transferSettle bounds the wait for another leader after a transfer that
// raft reported as failed.
const transferSettle = 5 * time.Second

// movedAway waits (at most d) until raft knows a leader other than this
// node, and reports whether it does.
func (n *Node) movedAway(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if _, lid := n.raft.LeaderWithID(); lid != "" && string(lid) != n.cfg.ID && n.raft.State() != raft.Leader {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// transferDrain bounds the wait for the commands in flight before a
// leadership transfer.
const transferDrain = 2 * time.Second

// drainVenue waits (at most d) until the venue has no request queued and
// every command it sequenced has come back from its engine (committed).
func (n *Node) drainVenue(d time.Duration) {
	deadline := time.Now().Add(d)
	for quiet := 0; quiet < 3 && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		x := n.x.Load()
		st := x.Stats()
		if x.QueueDepth() == 0 && st.Commands == st.Processed {
			quiet++
		} else {
			quiet = 0
		}
	}
}

// AdminHandler serves the cluster's operator endpoints (mount it at
// /cluster). It has no authentication of its own: the binary serves it
// behind the admin API's bearer tokens (admin.Guard: viewer for GET,
// operator for changes).
//
//	GET  /cluster                           Status as JSON
//	POST /cluster/add?id=ID&raft=HOST:PORT  add a voter
//	POST /cluster/remove?id=ID              remove a server
//	POST /cluster/transfer[?id=ID]          move leadership
//
// A change sent to a follower is refused with 421 and the leader's id.
func (n *Node) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /cluster", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, n.Status())
	})
	change := func(do func(r *http.Request) error) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if n.raft.State() != raft.Leader {
				leader := ""
				if p, ok := n.Leader(); ok {
					leader = p.ID
				}
				writeJSON(w, http.StatusMisdirectedRequest, map[string]string{"error": "not the leader", "leader": leader})
				return
			}
			if err := do(r); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
				return
			}
			writeJSON(w, http.StatusOK, n.Status())
		}
	}
	param := func(r *http.Request, name string) (string, error) {
		v := r.URL.Query().Get(name)
		if v == "" {
			return "", fmt.Errorf("parameter %s is required", name)
		}
		return v, nil
	}
	mux.HandleFunc("POST /cluster/add", change(func(r *http.Request) error {
		id, err := param(r, "id")
		if err != nil {
			return err
		}
		addr, err := param(r, "raft")
		if err != nil {
			return err
		}
		return n.AddVoter(id, addr, 10*time.Second)
	}))
	mux.HandleFunc("POST /cluster/remove", change(func(r *http.Request) error {
		id, err := param(r, "id")
		if err != nil {
			return err
		}
		if id == n.cfg.ID {
			return errors.New("the leader cannot remove itself: transfer leadership first")
		}
		return n.RemoveServer(id, 10*time.Second)
	}))
	mux.HandleFunc("POST /cluster/transfer", change(func(r *http.Request) error {
		return n.TransferLeadership(r.URL.Query().Get("id"))
	}))
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
