package cluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"github.com/rs/zerolog"
)

// The two log stores a node can keep raft's log and stable store in
// (Config.LogStore, cluster.log_store).
const (
	// LogStoreSegments is SegmentStore: our own segment files in
	// DIR/raft/segments/.
	LogStoreSegments = "segments"
	// LogStoreBoltDB is raft-boltdb v2: DIR/raft/raft.db.
	LogStoreBoltDB = "boltdb"
)

// logStore is what a node needs of its store: raft's two interfaces and Close.
type logStore interface {
	raft.LogStore
	raft.StableStore
	Close() error
}

// openLogStore opens the kind of store named in rdir (DIR/raft); kind ""
// is the default (see Config.LogStore). A data folder that holds the other
// kind's files is refused: raft's term, vote and
// log are there, and starting over beside them would let the node vote twice
// in a term or bootstrap a second cluster.
func openLogStore(kind, rdir string, noSync bool, log zerolog.Logger) (logStore, error) {
	bolt, segs := filepath.Join(rdir, "raft.db"), filepath.Join(rdir, "segments")
	if kind == "" {
		// The default: segments, but a folder made when raft-boltdb was
		// the only store keeps it (its term, vote and log are there).
		kind = LogStoreSegments
		if _, err := os.Stat(bolt); err == nil {
			kind = LogStoreBoltDB
			log.Info().Str("path", bolt).Msg("raft log store: raft-boltdb, found in the data folder (cluster.log_store unset)")
		}
	}
	mine, other := segs, bolt
	if kind == LogStoreBoltDB {
		mine, other = bolt, segs
	}
	if _, err := os.Stat(mine); errors.Is(err, os.ErrNotExist) {
		if _, err := os.Stat(other); err == nil {
			return nil, fmt.Errorf("cluster.log_store: %s, but this node's raft state is in %s (the other store); set cluster.log_store to match, or empty the data folder so the node catches up from its peers", kind, other)
		}
	}
	var (
		s   logStore
		err error
	)
	switch kind {
	case LogStoreBoltDB:
		s, err = raftboltdb.New(raftboltdb.Options{Path: bolt, NoSync: noSync})
	case LogStoreSegments:
		s, err = OpenSegmentStore(segs, SegmentStoreOptions{NoSync: noSync, Log: log})
	default:
		return nil, fmt.Errorf("cluster.log_store: %q (want %s or %s)", kind, LogStoreSegments, LogStoreBoltDB)
	}
	if err != nil {
		return nil, fmt.Errorf("cluster: raft log store: %w", err)
	}
	return s, nil
}
